import Foundation
import SealpostCore

/// Sealpost's own OpenAPI 3.1 description of every route it serves.
///
/// Shared routes follow SendGrid's official description (same paths, operation ids, schemas,
/// `on-behalf-of` parameter); the additions (400, 405, 413, 429 answers and rate-limit headers)
/// document what Sealpost really answers. A test checks live answers against this document.
enum OpenAPIDocument {
    /// The document as served: `send_at`'s maximum is the limit the validator applies this
    /// hour (`MailRequestValidator.latestSendAt`), so the schema and the server agree exactly.
    static func rendered(now: Date) -> String {
        json.replacingOccurrences(of: "__SEND_AT_MAX__", with: String(MailRequestValidator.latestSendAt(now: now)))
    }

    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Sealpost API",
            "version": "1.0.0",
            "description": "Self-hosted outbound mail relay with Enforced TLS. Wire-compatible with the Twilio SendGrid v3 API for the routes listed here."
          },
          "servers": [{"url": "http://127.0.0.1:8080"}],
          "security": [{"BearerAuth": []}],
          "paths": {
            "/v3/user/settings/enforced_tls": {
              "get": {
                "operationId": "ListEnforcedTlsSetting",
                "summary": "Retrieve current Enforced TLS settings.",
                "tags": ["Enforced TLS"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "responses": {
                  "200": {"description": "The settings.", "headers": {"X-RateLimit-Limit": {"$ref": "#/components/headers/X-RateLimit-Limit"}, "X-RateLimit-Remaining": {"$ref": "#/components/headers/X-RateLimit-Remaining"}, "X-RateLimit-Reset": {"$ref": "#/components/headers/X-RateLimit-Reset"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnforcedTlsResponse"}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "patch": {
                "operationId": "UpdateEnforcedTlsSetting",
                "summary": "Update Enforced TLS settings. Absent fields keep their value.",
                "tags": ["Enforced TLS"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnforcedTlsRequest"}}}},
                "responses": {
                  "200": {"description": "The whole settings object after the change.", "headers": {"X-RateLimit-Limit": {"$ref": "#/components/headers/X-RateLimit-Limit"}, "X-RateLimit-Remaining": {"$ref": "#/components/headers/X-RateLimit-Remaining"}, "X-RateLimit-Reset": {"$ref": "#/components/headers/X-RateLimit-Reset"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnforcedTlsResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/user/settings/enforced_tls/domains": {
              "get": {
                "operationId": "ListEnforcedTlsDomains",
                "summary": "Sealpost's per-recipient-domain entries, by domain. An entry replaces the account's setting for mail to its domain (stricter or looser).",
                "tags": ["Enforced TLS"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "responses": {
                  "200": {"description": "The entries.", "headers": {"X-RateLimit-Limit": {"$ref": "#/components/headers/X-RateLimit-Limit"}, "X-RateLimit-Remaining": {"$ref": "#/components/headers/X-RateLimit-Remaining"}, "X-RateLimit-Reset": {"$ref": "#/components/headers/X-RateLimit-Reset"}}, "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/EnforcedTlsDomainEntry"}}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/user/settings/enforced_tls/domains/{domain}": {
              "parameters": [{"name": "domain", "in": "path", "required": true, "description": "A domain as A-labels (compared case-insensitively), or .example.com for every subdomain of example.com; an exact entry wins over a dot entry.", "schema": {"$ref": "#/components/schemas/EntryDomain"}}, {"$ref": "#/components/parameters/OnBehalfOf"}],
              "get": {
                "operationId": "GetEnforcedTlsDomain",
                "summary": "One per-domain entry.",
                "tags": ["Enforced TLS"],
                "responses": {
                  "200": {"description": "The entry.", "headers": {"X-RateLimit-Limit": {"$ref": "#/components/headers/X-RateLimit-Limit"}, "X-RateLimit-Remaining": {"$ref": "#/components/headers/X-RateLimit-Remaining"}, "X-RateLimit-Reset": {"$ref": "#/components/headers/X-RateLimit-Reset"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnforcedTlsDomainEntry"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "put": {
                "operationId": "PutEnforcedTlsDomain",
                "summary": "Creates or replaces the entry. Absent fields take the defaults (false, false, 1.1).",
                "tags": ["Enforced TLS"],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnforcedTlsRequest"}}}},
                "responses": {
                  "200": {"description": "The entry.", "headers": {"X-RateLimit-Limit": {"$ref": "#/components/headers/X-RateLimit-Limit"}, "X-RateLimit-Remaining": {"$ref": "#/components/headers/X-RateLimit-Remaining"}, "X-RateLimit-Reset": {"$ref": "#/components/headers/X-RateLimit-Reset"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnforcedTlsDomainEntry"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteEnforcedTlsDomain",
                "summary": "Removes the entry: mail to the domain follows the account's setting again.",
                "tags": ["Enforced TLS"],
                "responses": {
                  "204": {"description": "Removed."},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/api_keys": {
              "post": {
                "operationId": "CreateApiKey",
                "summary": "Create an API key. Without scopes the key gets the caller's own scopes.",
                "tags": ["API Keys"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["name"],
                  "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}, "scopes": {"type": "array", "items": {"$ref": "#/components/schemas/Scope"}}}
                }}}},
                "responses": {
                  "201": {"description": "The key, shown this once.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["api_key", "api_key_id", "name", "scopes"],
                    "properties": {"api_key": {"type": "string"}, "api_key_id": {"type": "string"}, "name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}
                  }}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "get": {
                "operationId": "ListApiKey",
                "summary": "List the live API keys of the user.",
                "tags": ["API Keys"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "responses": {
                  "200": {"description": "Keys, without secrets.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["result"],
                    "properties": {"result": {"type": "array", "items": {"type": "object", "required": ["api_key_id", "name"], "properties": {"api_key_id": {"type": "string"}, "name": {"type": "string"}}}}}
                  }}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/api_keys/{api_key_id}": {
              "parameters": [{"name": "api_key_id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/OnBehalfOf"}],
              "get": {
                "operationId": "GetApiKey",
                "summary": "Show one API key and its scopes.",
                "tags": ["API Keys"],
                "responses": {
                  "200": {"description": "The key, without its secret.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["api_key_id", "name", "scopes"],
                    "properties": {"api_key_id": {"type": "string"}, "name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}
                  }}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteApiKey",
                "summary": "Revoke an API key. It stops working at once.",
                "tags": ["API Keys"],
                "responses": {
                  "204": {"description": "Revoked."},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/scopes": {
              "get": {
                "operationId": "ListScope",
                "summary": "The scopes of the presented key.",
                "tags": ["API Key Permissions"],
                "responses": {
                  "200": {"description": "Scopes.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["scopes"], "properties": {"scopes": {"type": "array", "items": {"type": "string"}}}
                  }}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/subusers": {
              "post": {
                "operationId": "CreateSubuser",
                "summary": "Create a subuser of the calling parent account. A password is accepted and ignored.",
                "tags": ["Subusers API"],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["username", "email"],
                  "properties": {"username": {"type": "string", "pattern": "^(?!account-id)[A-Za-z0-9._@+-]{1,64}$"}, "email": {"type": "string", "format": "email"}, "password": {"type": "string"}, "ips": {"type": "array", "items": {"type": "string"}}}
                }}}},
                "responses": {
                  "201": {"description": "The subuser.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["username", "user_id", "email"],
                    "properties": {"username": {"type": "string"}, "user_id": {"type": "integer"}, "email": {"type": "string"}, "credit_allocation": {"type": "object", "properties": {"type": {"type": "string"}}}}
                  }}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "409": {"description": "username exists", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "get": {
                "operationId": "ListSubuser",
                "summary": "List the subusers of the calling parent account.",
                "tags": ["Subusers API"],
                "parameters": [
                  {"name": "username", "in": "query", "schema": {"type": "string"}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                  {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}}
                ],
                "responses": {
                  "200": {"description": "Subusers.", "content": {"application/json": {"schema": {
                    "type": "array", "items": {"type": "object", "required": ["id", "username", "email", "disabled"],
                      "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "email": {"type": "string"}, "disabled": {"type": "boolean"}}}
                  }}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/mail/send": {
              "post": {
                "operationId": "SendMail",
                "summary": "Queue mail. 202 with X-Message-Id once every recipient is durably queued; delivered under the sender's Enforced TLS setting.",
                "tags": ["Mail Send"],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MailRequest"}}}},
                "responses": {
                  "200": {"description": "Sandbox mode (mail_settings.sandbox_mode.enable): valid, nothing queued. Empty body."},
                  "202": {"description": "Queued.", "headers": {"X-Message-Id": {"schema": {"type": "string"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/suppression/blocks": {
              "get": {
                "operationId": "ListSuppressionBlock",
                "summary": "Addresses whose mail was blocked, newest first.",
                "tags": ["Blocks API"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "start_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4102444800}},
                  {"name": "end_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4102444800}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                  {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
                  {"name": "email", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BlocksResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteSuppressionBlocks",
                "summary": "Remove every entry (delete_all) or the addresses given (emails), not both.",
                "tags": ["Blocks API"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SuppressionDelete"}}}},
                "responses": {
                  "204": {"description": "Removed."},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/suppression/blocks/{email}": {
              "parameters": [{"name": "email", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/OnBehalfOf"}],
              "get": {
                "operationId": "GetSuppressionBlock",
                "summary": "The entry of one address (an array, as SendGrid answers).",
                "tags": ["Blocks API"],
                "responses": {
                  "200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BlocksResponse"}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteSuppressionBlock",
                "summary": "Remove one address from the list.",
                "tags": ["Blocks API"],
                "responses": {
                  "204": {"description": "Removed."},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/suppression/bounces": {
              "get": {
                "operationId": "ListSuppressionBounces",
                "summary": "Addresses that bounced (a permanent 5xx answer), newest first.",
                "tags": ["Bounces API"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "start_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4102444800}},
                  {"name": "end_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4102444800}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                  {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
                  {"name": "email", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BlocksResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteSuppressionBounces",
                "summary": "Remove every entry (delete_all) or the addresses given (emails), not both.",
                "tags": ["Bounces API"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SuppressionDelete"}}}},
                "responses": {
                  "204": {"description": "Removed."},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/suppression/bounces/{email}": {
              "parameters": [{"name": "email", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/OnBehalfOf"}],
              "get": {
                "operationId": "GetSuppressionBounces",
                "summary": "The entry of one address (an array, as SendGrid answers).",
                "tags": ["Bounces API"],
                "responses": {
                  "200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BlocksResponse"}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteSuppressionBounce",
                "summary": "Remove one address from the list.",
                "tags": ["Bounces API"],
                "responses": {
                  "204": {"description": "Removed."},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/suppression/invalid_emails": {
              "get": {
                "operationId": "ListInvalidEmail",
                "summary": "Addresses whose domain does not exist or takes no mail, newest first.",
                "tags": ["Invalid Emails API"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "start_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4102444800}},
                  {"name": "end_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4102444800}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                  {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
                  {"name": "email", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InvalidEmailsResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteInvalidEmails",
                "summary": "Remove every entry (delete_all) or the addresses given (emails), not both.",
                "tags": ["Invalid Emails API"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SuppressionDelete"}}}},
                "responses": {
                  "204": {"description": "Removed."},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/suppression/invalid_emails/{email}": {
              "parameters": [{"name": "email", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/OnBehalfOf"}],
              "get": {
                "operationId": "GetInvalidEmail",
                "summary": "The entry of one address (an array, as SendGrid answers).",
                "tags": ["Invalid Emails API"],
                "responses": {
                  "200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InvalidEmailsResponse"}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteInvalidEmail",
                "summary": "Remove one address from the list.",
                "tags": ["Invalid Emails API"],
                "responses": {
                  "204": {"description": "Removed."},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/suppression/unsubscribes": {
              "get": {
                "operationId": "ListGlobalSuppression",
                "summary": "Global unsubscribes, newest first.",
                "tags": ["Suppressions - Global Suppressions"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "start_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4102444800}},
                  {"name": "end_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4102444800}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                  {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
                  {"name": "email", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UnsubscribesResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/asm/suppressions/global": {
              "post": {
                "operationId": "CreateGlobalSuppression",
                "summary": "Add addresses to the global unsubscribes; sends to them are dropped.",
                "tags": ["Suppressions - Global Suppressions"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["recipient_emails"], "properties": {"recipient_emails": {"type": "array", "items": {"$ref": "#/components/schemas/EmailAddress"}, "minItems": 1, "maxItems": 1000}}}}}},
                "responses": {
                  "201": {"description": "Added.", "content": {"application/json": {"schema": {"type": "object", "required": ["recipient_emails"], "properties": {"recipient_emails": {"type": "array", "items": {"type": "string"}}}}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/asm/suppressions/global/{email}": {
              "parameters": [{"name": "email", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/OnBehalfOf"}],
              "get": {
                "operationId": "GetGlobalSuppression",
                "summary": "{\"recipient_email\": e} when the address is globally unsubscribed, else {}.",
                "tags": ["Suppressions - Global Suppressions"],
                "responses": {
                  "200": {"description": "The entry, or {}.", "content": {"application/json": {"schema": {"type": "object", "properties": {"recipient_email": {"type": "string"}}}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteGlobalSuppression",
                "summary": "Remove an address from the global unsubscribes.",
                "tags": ["Suppressions - Global Suppressions"],
                "responses": {
                  "204": {"description": "Removed."},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/user/settings/enforced_tls/check": {
              "get": {
                "operationId": "CheckEnforcedTlsDomain",
                "summary": "Pre-flight check: how mail to a domain would travel under the current or proposed settings (connects to its MX hosts: EHLO, STARTTLS, handshake, QUIT; never sends mail).",
                "tags": ["Enforced TLS"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "domain", "in": "query", "required": true, "schema": {"type": "string", "maxLength": 253, "pattern": "^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"}},
                  {"name": "require_tls", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}},
                  {"name": "require_valid_cert", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}},
                  {"name": "version", "in": "query", "schema": {"type": "string", "enum": ["1.1", "1.2", "1.3"]}}
                ],
                "responses": {
                  "200": {"description": "The report.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TLSCheckReport"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/user/settings/enforced_tls/impact": {
              "get": {
                "operationId": "EnforcedTlsImpact",
                "summary": "What would be blocked: the recipient domains whose latest delivery finding the proposed settings would refuse, from the last days of mail.",
                "tags": ["Enforced TLS"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "require_tls", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}},
                  {"name": "require_valid_cert", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}},
                  {"name": "version", "in": "query", "schema": {"type": "string", "enum": ["1.1", "1.2", "1.3"]}},
                  {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 30}}
                ],
                "responses": {
                  "200": {"description": "The report.", "content": {"application/json": {"schema": {"type": "object",
                    "required": ["settings", "period", "domains_seen", "messages_seen", "would_block", "not_seen_recently"], "properties": {
                    "settings": {"$ref": "#/components/schemas/EnforcedTlsResponse"},
                    "period": {"type": "object", "required": ["start", "end"], "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}}},
                    "domains_seen": {"type": "integer"}, "messages_seen": {"type": "integer"},
                    "would_block": {"type": "array", "items": {"type": "object", "required": ["domain", "messages", "last_seen", "tls_failure"], "properties": {
                      "domain": {"type": "string"}, "messages": {"type": "integer"}, "last_seen": {"type": "integer"},
                      "tls_failure": {"$ref": "#/components/schemas/TLSFailureDetail"}}}},
                    "not_seen_recently": {"type": "array", "items": {"type": "string"}}}}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/user/settings/enforced_tls/audit": {
              "get": {
                "operationId": "EnforcedTlsAudit",
                "summary": "Sealpost's extension: the Enforced TLS audit trail (the setting, domain null, and per-domain entries; old null: created, new null: deleted), newest first.",
                "tags": ["Enforced TLS"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}
                ],
                "responses": {
                  "200": {"description": "The changes.", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object",
                    "required": ["at", "domain", "old", "new", "via", "key_id", "on_behalf_of"], "properties": {
                      "at": {"type": "integer"}, "domain": {"type": ["string", "null"]},
                      "old": {"oneOf": [{"$ref": "#/components/schemas/EnforcedTlsResponse"}, {"type": "null"}]},
                      "new": {"oneOf": [{"$ref": "#/components/schemas/EnforcedTlsResponse"}, {"type": "null"}]},
                      "via": {"type": "string"}, "key_id": {"type": ["string", "null"]}, "on_behalf_of": {"type": ["string", "null"]}}}}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/stats": {
              "get": {
                "operationId": "ListStat",
                "summary": "Retrieve global email statistics (SendGrid's): per day, week or month, counted per recipient from the stored events; metrics Sealpost cannot know (opens, clicks, spam reports, unsubscribes) are 0.",
                "tags": ["Stats"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "start_date", "in": "query", "required": true, "schema": {"type": "string", "format": "date"}},
                  {"name": "end_date", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "Defaults to today (UTC); not before start_date, at most 1095 days after it (1096 days in all)."},
                  {"name": "aggregated_by", "in": "query", "schema": {"type": "string", "enum": ["day", "week", "month"]}}
                ],
                "responses": {
                  "200": {"description": "One entry per bucket of the period (weeks start on Monday, months on the 1st; a partial first bucket is dated by start_date).", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object", "required": ["date", "stats"], "properties": {
                    "date": {"type": "string"},
                    "stats": {"type": "array", "items": {"type": "object", "required": ["metrics"], "properties": {"metrics": {"type": "object",
                      "required": ["blocks", "bounce_drops", "bounces", "clicks", "deferred", "delivered", "invalid_emails", "opens", "processed", "requests", "spam_report_drops", "spam_reports", "unique_clicks", "unique_opens", "unsubscribe_drops", "unsubscribes"],
                      "additionalProperties": {"type": "integer"}}}}}}}}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/user/settings/enforced_tls/stats": {
              "get": {
                "operationId": "EnforcedTlsStats",
                "summary": "Sealpost's extension: delivered messages per day by the highest TLS level reached (none, encrypted, verified: a PKIX-verified certificate, dane: DANE-authenticated) and by TLS version.",
                "tags": ["Enforced TLS"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "start_date", "in": "query", "required": true, "schema": {"type": "string", "format": "date"}},
                  {"name": "end_date", "in": "query", "schema": {"type": "string", "format": "date"}},
                  {"name": "aggregated_by", "in": "query", "schema": {"type": "string", "enum": ["day", "week", "month"]}}
                ],
                "responses": {
                  "200": {"description": "One entry per day (or bucket).", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object", "required": ["date", "levels", "versions"], "properties": {
                    "date": {"type": "string"},
                    "levels": {"type": "object", "required": ["none", "encrypted", "verified", "dane"], "additionalProperties": {"type": "integer"}},
                    "versions": {"type": "object", "required": ["1.1", "1.2", "1.3"], "additionalProperties": {"type": "integer"}}}}}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/whitelabel/domains": {
              "get": {
                "operationId": "ListAuthenticatedDomain",
                "summary": "The tenant's authenticated domains (a subuser sees its parent's), oldest first.",
                "tags": ["Domain Authentication"],
                "parameters": [
                  {"$ref": "#/components/parameters/OnBehalfOf"},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                  {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
                  {"name": "domain", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "Domains.", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/AuthenticatedDomain"}}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "post": {
                "operationId": "AuthenticateDomain",
                "summary": "Authenticate a domain (manual security): Sealpost makes an RSA-2048 key; publish dns.dkim, then validate.",
                "tags": ["Domain Authentication"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["domain"], "properties": {
                  "domain": {"type": "string", "pattern": "^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", "maxLength": 253},
                  "subdomain": {"type": "string", "pattern": "^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)?$"},
                  "custom_dkim_selector": {"type": "string", "pattern": "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"},
                  "default": {"type": "boolean"},
                  "custom_spf": {"type": "boolean"},
                  "automatic_security": {"const": false},
                  "ips": {"type": "array", "maxItems": 0},
                  "username": {"const": ""},
                  "region": {"const": "global"}}}}}},
                "responses": {
                  "201": {"description": "Created.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AuthenticatedDomain"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "409": {"description": "The tenant has this domain and subdomain already.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/whitelabel/domains/{domain_id}": {
              "parameters": [{"name": "domain_id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/OnBehalfOf"}],
              "get": {
                "operationId": "GetAuthenticatedDomain",
                "summary": "One authenticated domain of the tenant.",
                "tags": ["Domain Authentication"],
                "responses": {
                  "200": {"description": "The domain.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AuthenticatedDomain"}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "patch": {
                "operationId": "UpdateAuthenticatedDomain",
                "summary": "Change default (and custom_spf).",
                "tags": ["Domain Authentication"],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"default": {"type": "boolean"}, "custom_spf": {"type": "boolean"}}}}}},
                "responses": {
                  "200": {"description": "The domain.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AuthenticatedDomain"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "delete": {
                "operationId": "DeleteAuthenticatedDomain",
                "summary": "Delete the domain; its mail is no longer signed.",
                "tags": ["Domain Authentication"],
                "responses": {
                  "204": {"description": "Deleted."},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/whitelabel/domains/{id}/validate": {
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/OnBehalfOf"}],
              "post": {
                "operationId": "ValidateAuthenticatedDomain",
                "summary": "Look the DKIM TXT record up through Sealpost's resolver; signing starts once it is found.",
                "tags": ["Domain Authentication"],
                "responses": {
                  "200": {"description": "The result.", "content": {"application/json": {"schema": {"type": "object", "required": ["id", "valid", "validation_results"], "properties": {
                    "id": {"type": "integer"}, "valid": {"type": "boolean"},
                    "validation_results": {"type": "object", "required": ["dkim"], "properties": {"dkim": {"type": "object", "required": ["valid", "reason"], "properties": {"valid": {"type": "boolean"}, "reason": {"type": ["string", "null"]}}}}}}}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "404": {"$ref": "#/components/responses/Error404"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/user/webhooks/event/settings": {
              "get": {
                "operationId": "GetEventWebhookSettings",
                "summary": "Event Webhook settings of the user.",
                "tags": ["Webhooks"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "responses": {
                  "200": {"description": "Settings.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventWebhookSettings"}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "patch": {
                "operationId": "UpdateEventWebhookSettings",
                "summary": "Change Event Webhook settings; absent fields keep their value.",
                "tags": ["Webhooks"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                  "200": {"description": "Settings.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventWebhookSettings"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/v3/user/webhooks/event/settings/signed": {
              "get": {
                "operationId": "GetSignedEventWebhookPublicKey",
                "summary": "The public key of the signed Event Webhook (empty while signing is off).",
                "tags": ["Webhooks"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "responses": {
                  "200": {"description": "Public key.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignedWebhookKey"}}}},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              },
              "patch": {
                "operationId": "ToggleSignedEventWebhook",
                "summary": "Turn signing on (a new P-256 key pair, unless on already) or off (the key is forgotten).",
                "tags": ["Webhooks"],
                "parameters": [{"$ref": "#/components/parameters/OnBehalfOf"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["enabled"], "properties": {"enabled": {"type": "boolean"}}}}}},
                "responses": {
                  "200": {"description": "Public key.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignedWebhookKey"}}}},
                  "400": {"$ref": "#/components/responses/Error400"},
                  "401": {"$ref": "#/components/responses/Error401"},
                  "403": {"$ref": "#/components/responses/Error403"},
                  "413": {"$ref": "#/components/responses/Error413"},
                  "429": {"$ref": "#/components/responses/Error429"}
                }
              }
            },
            "/healthz": {
              "get": {
                "operationId": "Health",
                "summary": "Liveness probe. No authentication.",
                "security": [],
                "responses": {"200": {"description": "Alive.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
              }
            },
            "/metrics": {
              "get": {
                "operationId": "Metrics",
                "summary": "Prometheus metrics. No authentication; bind the API to a private address.",
                "security": [],
                "responses": {"200": {"description": "Prometheus text format.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
              }
            },
            "/openapi.json": {
              "get": {
                "operationId": "OpenAPI",
                "summary": "This document.",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {"schema": {"type": "object"}}}}}
              }
            }
          },
          "components": {
            "securitySchemes": {"BearerAuth": {"type": "http", "scheme": "bearer", "description": "A SendGrid-shaped API key: SG.<key id>.<secret>."}},
            "parameters": {
              "OnBehalfOf": {
                "name": "on-behalf-of", "in": "header", "required": false, "schema": {"type": "string"},
                "description": "Act for a subuser (its username) or a customer account (account-id <id>) of the calling parent account."
              }
            },
            "schemas": {
              "Version": {"type": "number", "enum": [1.1, 1.2, 1.3]},
              "Address": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "format": "email", "pattern": "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"}, "name": {"type": "string"}}},
              "Scope": {"type": "string", "enum": ["api_keys.create", "api_keys.delete", "api_keys.read", "subusers.create", "subusers.read", "user.settings.enforced_tls.read", "user.settings.enforced_tls.update", "mail.send", "suppression.blocks.delete", "suppression.blocks.read", "suppression.bounces.delete", "suppression.bounces.read", "suppression.invalid_emails.delete", "suppression.invalid_emails.read", "suppression.unsubscribes.read", "asm.suppressions.global.create", "asm.suppressions.global.delete", "asm.suppressions.global.read", "whitelabel.create", "whitelabel.delete", "whitelabel.read", "whitelabel.update", "user.webhooks.event.settings.read", "user.webhooks.event.settings.update", "stats.read"]},
              "MailRequest": {
                "description": "subject may be left out when every personalization has one (documented here as required for simplicity). One address may appear only once across to, cc and bcc of a personalization (SendGrid's rule). SendGrid fields Sealpost does not implement (template_id, sections, asm, batch_id, ip_pool_name, substitutions, dynamic_template_data, tracking_settings.*, mail_settings.footer/bcc/spam_check) are refused with 400 when they would have an effect; see docs/api.md.",
                "type": "object", "required": ["personalizations", "from", "content", "subject"],
                "not": {"required": ["reply_to", "reply_to_list"]},
                "properties": {
                  "personalizations": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {
                    "type": "object", "required": ["to"],
                    "description": "An address may appear only once across to, cc and bcc of one personalization (compared case-insensitively); a duplicate is refused with 400 and SendGrid's text.",
                    "properties": {
                      "from": {"$ref": "#/components/schemas/Address"},
                      "to": {"type": "array", "uniqueItems": true, "minItems": 1, "items": {"$ref": "#/components/schemas/Address"}},
                      "cc": {"type": "array", "uniqueItems": true, "items": {"$ref": "#/components/schemas/Address"}},
                      "bcc": {"type": "array", "uniqueItems": true, "items": {"$ref": "#/components/schemas/Address"}},
                      "subject": {"type": "string", "minLength": 1},
                      "headers": {"type": "object", "propertyNames": {"pattern": "^[!-9;-~]+$", "not": {"pattern": "^([Ff][Rr][Oo][Mm]|[Tt][Oo]|[Cc][Cc]|[Bb][Cc][Cc]|[Ss][Uu][Bb][Jj][Ee][Cc][Tt]|[Dd][Aa][Tt][Ee]|[Mm][Ee][Ss][Ss][Aa][Gg][Ee]-[Ii][Dd]|[Mm][Ii][Mm][Ee]-[Vv][Ee][Rr][Ss][Ii][Oo][Nn]|[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Tt][Yy][Pp][Ee]|[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Tt][Rr][Aa][Nn][Ss][Ff][Ee][Rr]-[Ee][Nn][Cc][Oo][Dd][Ii][Nn][Gg]|[Rr][Ee][Pp][Ll][Yy]-[Tt][Oo]|[Rr][Ee][Cc][Ee][Ii][Vv][Ee][Dd]|[Rr][Ee][Tt][Uu][Rr][Nn]-[Pp][Aa][Tt][Hh]|[Xx]-[Ss][Gg]-[Ii][Dd]|[Xx]-[Ss][Gg]-[Ee][Ii][Dd]|[Dd][Kk][Ii][Mm]-[Ss][Ii][Gg][Nn][Aa][Tt][Uu][Rr][Ee])$"}}, "additionalProperties": {"type": "string", "pattern": "^[^\\r\\n]*$"}, "description": "A value whose words cannot be folded into lines of 998 characters is refused."},
                      "custom_args": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Strings; the request's and the personalization's merged at most 10,000 bytes of keys and values."},
                      "send_at": {"type": "integer", "minimum": 0, "maximum": __SEND_AT_MAX__, "description": "Unix time; at most 72 hours after the end of the current hour (UTC): the maximum is that limit when this document was served."}
                    }
                  }},
                  "from": {"$ref": "#/components/schemas/Address"},
                  "reply_to": {"$ref": "#/components/schemas/Address"},
                  "reply_to_list": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"$ref": "#/components/schemas/Address"}},
                  "subject": {"type": "string", "minLength": 1},
                  "content": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["type", "value"],
                    "properties": {"type": {"type": "string", "minLength": 3, "maxLength": 255, "pattern": "^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$"}, "value": {"type": "string", "minLength": 1}}}},
                  "attachments": {"type": "array", "items": {"type": "object", "required": ["content", "filename"],
                    "properties": {
                      "content": {"type": "string", "pattern": "^[ \\t\\r\\n]*(([A-Za-z0-9+/][ \\t\\r\\n]*){4})*(([A-Za-z0-9+/][ \\t\\r\\n]*){2}=[ \\t\\r\\n]*=[ \\t\\r\\n]*|([A-Za-z0-9+/][ \\t\\r\\n]*){3}=[ \\t\\r\\n]*)?$", "description": "base64 of the exact bytes to attach (spaces and line breaks between characters allowed); at least one character", "minLength": 1, "not": {"pattern": "^[ \\t\\r\\n]*$"}},
                      "filename": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^\\r\\n]+$"},
                      "type": {"type": "string", "minLength": 3, "maxLength": 255, "pattern": "^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$", "default": "application/octet-stream"},
                      "disposition": {"type": "string", "enum": ["attachment", "inline"], "default": "attachment"},
                      "content_id": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]+$"}
                    },
                    "if": {"properties": {"disposition": {"const": "inline"}}, "required": ["disposition"]},
                    "then": {"required": ["content_id"]}}},
                  "headers": {"type": "object", "propertyNames": {"pattern": "^[!-9;-~]+$", "not": {"pattern": "^([Ff][Rr][Oo][Mm]|[Tt][Oo]|[Cc][Cc]|[Bb][Cc][Cc]|[Ss][Uu][Bb][Jj][Ee][Cc][Tt]|[Dd][Aa][Tt][Ee]|[Mm][Ee][Ss][Ss][Aa][Gg][Ee]-[Ii][Dd]|[Mm][Ii][Mm][Ee]-[Vv][Ee][Rr][Ss][Ii][Oo][Nn]|[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Tt][Yy][Pp][Ee]|[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Tt][Rr][Aa][Nn][Ss][Ff][Ee][Rr]-[Ee][Nn][Cc][Oo][Dd][Ii][Nn][Gg]|[Rr][Ee][Pp][Ll][Yy]-[Tt][Oo]|[Rr][Ee][Cc][Ee][Ii][Vv][Ee][Dd]|[Rr][Ee][Tt][Uu][Rr][Nn]-[Pp][Aa][Tt][Hh]|[Xx]-[Ss][Gg]-[Ii][Dd]|[Xx]-[Ss][Gg]-[Ee][Ii][Dd]|[Dd][Kk][Ii][Mm]-[Ss][Ii][Gg][Nn][Aa][Tt][Uu][Rr][Ee])$"}}, "additionalProperties": {"type": "string", "pattern": "^[^\\r\\n]*$"}, "description": "A value whose words cannot be folded into lines of 998 characters is refused."},
                  "categories": {"type": "array", "maxItems": 10, "items": {"type": "string"}},
                  "custom_args": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Strings; the request's and the personalization's merged at most 10,000 bytes of keys and values."},
                  "send_at": {"type": "integer", "minimum": 0, "maximum": __SEND_AT_MAX__, "description": "Unix time; at most 72 hours after the end of the current hour (UTC): the maximum is that limit when this document was served."},
                  "mail_settings": {"type": "object", "properties": {
                    "sandbox_mode": {"$ref": "#/components/schemas/Switch"},
                    "bypass_list_management": {"$ref": "#/components/schemas/Switch"},
                    "require_tls": {"$ref": "#/components/schemas/Switch", "description": "Sealpost's extension: send as with MAIL FROM:<...> REQUIRETLS (RFC 8689): only over verified TLS to securely found MX hosts that offer REQUIRETLS, else a block event with status 5.7.30."},
                    "bypass_spam_management": {"$ref": "#/components/schemas/Switch"},
                    "bypass_bounce_management": {"$ref": "#/components/schemas/Switch"},
                    "bypass_unsubscribe_management": {"$ref": "#/components/schemas/Switch"}},
                    "description": "bypass_list_management cannot be combined with another enabled bypass switch (SendGrid's rule).",
                    "if": {"required": ["bypass_list_management"], "properties": {"bypass_list_management": {"required": ["enable"], "properties": {"enable": {"const": true}}}}},
                    "then": {"properties": {
                      "bypass_spam_management": {"$ref": "#/components/schemas/SwitchOff"},
                      "bypass_bounce_management": {"$ref": "#/components/schemas/SwitchOff"},
                      "bypass_unsubscribe_management": {"$ref": "#/components/schemas/SwitchOff"}}}}
                }
              },
              "Switch": {"type": "object", "properties": {"enable": {"type": "boolean"}}},
              "BlocksResponse": {"type": "array", "items": {"type": "object", "required": ["created", "email", "reason", "status"],
                "properties": {"created": {"type": "integer"}, "email": {"type": "string"}, "reason": {"type": "string"}, "status": {"type": "string"}}}},
              "InvalidEmailsResponse": {"type": "array", "items": {"type": "object", "required": ["created", "email", "reason"],
                "properties": {"created": {"type": "integer"}, "email": {"type": "string"}, "reason": {"type": "string"}}}},
              "UnsubscribesResponse": {"type": "array", "items": {"type": "object", "required": ["created", "email"],
                "properties": {"created": {"type": "integer"}, "email": {"type": "string"}}}},
              "EmailAddress": {"type": "string", "format": "email", "pattern": "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"},
              "SuppressionDelete": {"oneOf": [
                {"type": "object", "required": ["delete_all"], "properties": {"delete_all": {"const": true}}, "not": {"required": ["emails"]}},
                {"type": "object", "required": ["emails"], "properties": {"delete_all": {"const": false}, "emails": {"type": "array", "items": {"$ref": "#/components/schemas/EmailAddress"}, "maxItems": 1000}}}]},
              "AuthenticatedDomain": {"type": "object", "required": ["id", "user_id", "subdomain", "domain", "username", "ips", "custom_spf", "default", "legacy", "automatic_security", "valid", "dns"], "properties": {
                "id": {"type": "integer"}, "user_id": {"type": "integer"}, "subdomain": {"type": "string"}, "domain": {"type": "string"},
                "username": {"type": "string"}, "ips": {"type": "array", "items": {"type": "string"}}, "custom_spf": {"type": "boolean"},
                "default": {"type": "boolean"}, "legacy": {"type": "boolean"}, "automatic_security": {"type": "boolean"}, "valid": {"type": "boolean"},
                "dns": {"type": "object", "required": ["dkim"], "properties": {"dkim": {"type": "object", "required": ["valid", "type", "host", "data"], "properties": {
                  "valid": {"type": "boolean"}, "type": {"const": "txt"}, "host": {"type": "string"}, "data": {"type": "string"}}}}}}},
              "TLSFailureDetail": {"type": ["object", "null"], "required": ["result_type", "policy", "required_level"], "properties": {
                "result_type": {"type": "string"}, "policy": {"type": "string"}, "required_level": {"type": "string"},
                "minimum_version": {"type": "string"}, "mx_host": {"type": "string"}}},
              "TLSCheckReport": {"type": "object", "required": ["domain", "settings", "policies", "mx", "would_deliver", "tls_failure", "reason"], "properties": {
                "domain": {"type": "string"},
                "settings": {"$ref": "#/components/schemas/EnforcedTlsResponse"},
                "policies": {"type": "object", "required": ["domain_entry", "dane", "mta_sts"], "properties": {
                  "domain_entry": {"type": ["object", "null"]}, "dane": {"type": "boolean"}, "mta_sts": {"type": ["string", "null"]}}},
                "mx": {"type": "array", "items": {"type": "object", "required": ["host", "preference", "addresses", "starttls", "tls_version", "certificate", "dane", "mta_sts", "would_deliver", "tls_failure", "reason"], "properties": {
                  "host": {"type": "string"}, "preference": {"type": ["integer", "null"]}, "addresses": {"type": "array", "items": {"type": "string"}},
                  "starttls": {"type": "boolean"}, "tls_version": {"type": ["string", "null"]},
                  "certificate": {"type": ["object", "null"], "required": ["verdict", "subject", "issuer", "not_after", "dns_names"], "properties": {
                    "verdict": {"enum": ["valid", "untrusted", "host-mismatch", "expired", "invalid"]}, "subject": {"type": ["string", "null"]},
                    "issuer": {"type": ["string", "null"]}, "not_after": {"type": ["integer", "null"]}, "dns_names": {"type": "array", "items": {"type": "string"}}}},
                  "dane": {"type": ["string", "null"]}, "mta_sts": {"type": ["string", "null"]}, "would_deliver": {"type": "boolean"},
                  "tls_failure": {"$ref": "#/components/schemas/TLSFailureDetail"}, "reason": {"type": ["string", "null"]}}}},
                "would_deliver": {"type": "boolean"},
                "tls_failure": {"$ref": "#/components/schemas/TLSFailureDetail"},
                "reason": {"type": ["string", "null"]}}},
              "SwitchOff": {"type": "object", "properties": {"enable": {"const": false}}},
              "SignedWebhookKey": {"type": "object", "required": ["public_key"], "properties": {"public_key": {"type": "string", "description": "base64 DER SubjectPublicKeyInfo (P-256); empty while signing is off"}}},
              "EventWebhookSettings": {"type": "object", "required": ["enabled", "url"], "properties": {
                "enabled": {"type": "boolean"}, "url": {"type": "string"}, "bounce": {"type": "boolean"}, "click": {"type": "boolean"},
                "deferred": {"type": "boolean"}, "delivered": {"type": "boolean"}, "dropped": {"type": "boolean"},
                "group_resubscribe": {"type": "boolean"}, "group_unsubscribe": {"type": "boolean"}, "open": {"type": "boolean"},
                "processed": {"type": "boolean"}, "spam_report": {"type": "boolean"}, "unsubscribe": {"type": "boolean"}}},
              "EntryDomain": {"type": "string", "maxLength": 253, "pattern": "^\\.?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"},
              "EnforcedTlsDomainEntry": {
                "type": "object",
                "required": ["domain", "require_tls", "require_valid_cert", "version"],
                "properties": {
                  "domain": {"type": "string"},
                  "require_tls": {"type": "boolean"},
                  "require_valid_cert": {"type": "boolean"},
                  "version": {"$ref": "#/components/schemas/Version"}
                }
              },
              "EnforcedTlsRequest": {
                "type": "object",
                "properties": {
                  "require_tls": {"type": "boolean"},
                  "require_valid_cert": {"type": "boolean"},
                  "version": {"anyOf": [{"$ref": "#/components/schemas/Version"}, {"type": "string", "enum": ["1.1", "1.2", "1.3"]}]}
                }
              },
              "EnforcedTlsResponse": {
                "type": "object",
                "required": ["require_tls", "require_valid_cert", "version"],
                "properties": {
                  "require_tls": {"type": "boolean"},
                  "require_valid_cert": {"type": "boolean"},
                  "version": {"$ref": "#/components/schemas/Version", "default": 1.1}
                }
              },
              "ErrorResponse": {
                "type": "object",
                "required": ["errors"],
                "properties": {
                  "errors": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["field", "message"],
                    "properties": {"field": {"type": ["string", "null"]}, "message": {"type": "string"}}
                  }}
                }
              }
            },
            "headers": {
              "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests allowed per minute for this key and endpoint."},
              "X-RateLimit-Remaining": {"schema": {"type": "integer"}},
              "X-RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Unix time at which the window restarts."}
            },
            "responses": {
              "Error400": {"description": "Invalid input; each error names its field.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
              "Error401": {"description": "authorization required", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
              "Error403": {"description": "access forbidden", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
              "Error404": {"description": "resource not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
              "Error413": {"description": "content too large", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
              "Error429": {"description": "too many requests", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
            }
          }
        }
        """#
}
