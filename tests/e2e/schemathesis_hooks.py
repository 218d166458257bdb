"""Schemathesis hooks (SCHEMATHESIS_HOOKS=schemathesis_hooks) for the rules of Mail Send that
JSON Schema cannot state and that /openapi.json gives in words instead."""
import schemathesis


@schemathesis.hook
def filter_body(context, body):
    """SendGrid's duplicate-address rule: one address at most once across to, cc and bcc of a
    personalization, compared case-insensitively (documented on `personalizations` items).
    A generated body that breaks it is not valid input, so it is not sent as such."""
    operation = context.operation
    if operation is None or operation.path != "/v3/mail/send" or not isinstance(body, dict):
        return True
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list):
        return True
    for p in personalizations:
        if not isinstance(p, dict):
            continue
        emails = [a.get("email").lower() for key in ("to", "cc", "bcc") if isinstance(p.get(key), list)
                  for a in p[key] if isinstance(a, dict) and isinstance(a.get("email"), str)]
        if len(emails) != len(set(emails)):
            return False
    return True
