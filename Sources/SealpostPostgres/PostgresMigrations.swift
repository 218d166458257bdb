import Logging
import PostgresNIO
import SealpostCore
import SealpostStorage

/// The shared schema (`Schema.migrations`) in PostgreSQL's dialect. Append-only, like the
/// SQLite list: never edit a shipped migration.
///
/// Times are epoch seconds in `double precision`, as in SQLite, so both backends store and
/// compare them the same way.
enum PostgresMigrations {
    static let steps: [(id: String, sql: [String])] = [
        (
            "v1-tenancy-keys-settings",
            [
                """
                CREATE TABLE users (
                    id BIGSERIAL PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('account', 'subuser', 'customer')),
                    name TEXT NOT NULL UNIQUE,
                    email TEXT,
                    parent_id BIGINT REFERENCES users(id),
                    created_at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX users_parent ON users(parent_id)",
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    seq BIGSERIAL,
                    user_id BIGINT NOT NULL REFERENCES users(id),
                    name TEXT NOT NULL,
                    scopes TEXT,
                    secret_hash BYTEA NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    revoked_at DOUBLE PRECISION
                )
                """,
                "CREATE INDEX api_keys_user ON api_keys(user_id)",
                """
                CREATE TABLE enforced_tls (
                    user_id BIGINT PRIMARY KEY REFERENCES users(id),
                    require_tls BOOLEAN NOT NULL,
                    require_valid_cert BOOLEAN NOT NULL,
                    version TEXT NOT NULL CHECK (version IN ('1.1', '1.2', '1.3'))
                )
                """,
                """
                CREATE TABLE settings_audit (
                    id BIGSERIAL PRIMARY KEY,
                    user_id BIGINT NOT NULL REFERENCES users(id),
                    key_id TEXT,
                    on_behalf_of TEXT,
                    via TEXT NOT NULL,
                    old_value TEXT NOT NULL,
                    new_value TEXT NOT NULL,
                    at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX settings_audit_user ON settings_audit(user_id)",
            ]
        ),
        // The read cache's bookkeeping (see ReadCache): a generation counter moved on by every
        // write that changes cached data, and (v5) the log of what each generation touched.
        (
            "v2-generation",
            [
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
                "INSERT INTO meta (key, value) VALUES ('generation', 0), ('pruned_through', 0)",
            ]
        ),
        (
            "v3-mail-queue",
            [
                """
                CREATE TABLE messages (
                    id TEXT PRIMARY KEY,
                    x_message_id TEXT NOT NULL,
                    user_id BIGINT NOT NULL REFERENCES users(id),
                    mail_from TEXT NOT NULL,
                    smtp_id TEXT NOT NULL,
                    content BYTEA NOT NULL,
                    categories TEXT NOT NULL,
                    custom_args TEXT NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL
                )
                """,
                """
                CREATE TABLE deliveries (
                    id BIGSERIAL PRIMARY KEY,
                    message_id TEXT NOT NULL REFERENCES messages(id),
                    user_id BIGINT NOT NULL,
                    recipient TEXT NOT NULL,
                    domain TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'bounced', 'blocked', 'dropped')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at DOUBLE PRECISION NOT NULL,
                    expires_at DOUBLE PRECISION NOT NULL,
                    lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
                    last_result TEXT,
                    updated_at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at)",
                """
                CREATE TABLE events (
                    id BIGSERIAL PRIMARY KEY,
                    user_id BIGINT NOT NULL,
                    sg_event_id TEXT NOT NULL UNIQUE,
                    event TEXT NOT NULL,
                    email TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    posted_at DOUBLE PRECISION
                )
                """,
                "CREATE INDEX events_unposted ON events(posted_at, user_id, id)",
                """
                CREATE TABLE blocks (
                    user_id BIGINT NOT NULL,
                    email TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created BIGINT NOT NULL,
                    PRIMARY KEY (user_id, email)
                )
                """,
            ]
        ),
        (
            "v4-event-webhook",
            [
                """
                CREATE TABLE webhook_settings (
                    user_id BIGINT PRIMARY KEY REFERENCES users(id),
                    enabled BOOLEAN NOT NULL,
                    url TEXT NOT NULL,
                    events TEXT NOT NULL
                )
                """
            ]
        ),
        (
            "v5-change-log",
            [
                "CREATE TABLE changes (generation BIGINT NOT NULL, scope TEXT NOT NULL)",
                "CREATE INDEX changes_generation ON changes(generation)",
            ]
        ),
        (
            "v6-lease-owners",
            [
                "ALTER TABLE deliveries ADD COLUMN lease_owner TEXT",
                "ALTER TABLE events ADD COLUMN post_lease_until DOUBLE PRECISION NOT NULL DEFAULT 0",
            ]
        ),
        // An internationalized message (UTF-8 in its headers) goes only to SMTPUTF8 hops.
        ("v7-smtputf8", ["ALTER TABLE messages ADD COLUMN smtputf8 BOOLEAN NOT NULL DEFAULT false"]),
        // Per-recipient-domain Enforced TLS entries and their audit trail (NULL old: created, NULL new: deleted).
        (
            "v8-domain-tls",
            [
                """
                CREATE TABLE domain_tls (
                    user_id BIGINT NOT NULL REFERENCES users(id),
                    domain TEXT NOT NULL,
                    require_tls BOOLEAN NOT NULL,
                    require_valid_cert BOOLEAN NOT NULL,
                    version TEXT NOT NULL CHECK (version IN ('1.1', '1.2', '1.3')),
                    PRIMARY KEY (user_id, domain)
                )
                """,
                """
                CREATE TABLE domain_tls_audit (
                    id BIGSERIAL PRIMARY KEY,
                    user_id BIGINT NOT NULL REFERENCES users(id),
                    domain TEXT NOT NULL,
                    key_id TEXT,
                    on_behalf_of TEXT,
                    via TEXT NOT NULL,
                    old_value TEXT,
                    new_value TEXT,
                    at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX domain_tls_audit_user ON domain_tls_audit(user_id)",
            ]
        ),
        // MTA-STS policies as fetched (RFC 8461 §5.1), shared by every node until fetched_at + max_age.
        (
            "v9-mta-sts-cache",
            [
                """
                CREATE TABLE mta_sts_policies (
                    domain TEXT PRIMARY KEY,
                    policy_id TEXT NOT NULL,
                    policy TEXT NOT NULL,
                    fetched_at DOUBLE PRECISION NOT NULL,
                    expires_at DOUBLE PRECISION NOT NULL
                )
                """
            ]
        ),
        // The signed Event Webhook's P-256 private key (raw scalar), per user, while signing is on.
        (
            "v10-webhook-signing",
            [
                """
                CREATE TABLE webhook_signing (
                    user_id BIGINT PRIMARY KEY REFERENCES users(id),
                    private_key BYTEA NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL
                )
                """
            ]
        ),
        // Every suppression list in one table (the blocks list moves in): bounces, invalid
        // emails and global unsubscribes keep mail from being sent; blocks are only listed.
        (
            "v11-suppressions",
            [
                """
                CREATE TABLE suppressions (
                    user_id BIGINT NOT NULL,
                    list TEXT NOT NULL CHECK (list IN ('blocks', 'bounces', 'invalid_emails', 'unsubscribes')),
                    email TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created BIGINT NOT NULL,
                    PRIMARY KEY (user_id, list, email)
                )
                """,
                "CREATE INDEX suppressions_email ON suppressions(user_id, email)",
                """
                INSERT INTO suppressions (user_id, list, email, reason, status, created)
                SELECT user_id, 'blocks', email, reason, status, created FROM blocks
                """,
                "DROP TABLE blocks",
            ]
        ),
        // DKIM sending domains: the owner tenant's key pair (PKCS#1 DER private key; the public
        // key as published), valid once the TXT record was found.
        (
            "v12-domain-authentication",
            [
                """
                CREATE TABLE authenticated_domains (
                    id BIGSERIAL PRIMARY KEY,
                    owner_id BIGINT NOT NULL REFERENCES users(id),
                    domain TEXT NOT NULL,
                    subdomain TEXT NOT NULL,
                    selector TEXT NOT NULL,
                    private_key BYTEA NOT NULL,
                    public_key TEXT NOT NULL,
                    is_default BOOLEAN NOT NULL,
                    custom_spf BOOLEAN NOT NULL,
                    valid BOOLEAN NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    UNIQUE (owner_id, domain, subdomain)
                )
                """
            ]
        ),
        // What delivery sessions found per user, recipient domain and UTC day ('' for none): the
        // impact report's data, kept TLSObservation.retentionDays.
        (
            "v13-tls-observations",
            [
                """
                CREATE TABLE tls_observations (
                    user_id BIGINT NOT NULL,
                    domain TEXT NOT NULL,
                    day BIGINT NOT NULL,
                    starttls BOOLEAN NOT NULL,
                    encrypted BOOLEAN NOT NULL,
                    tls_version TEXT NOT NULL,
                    certificate TEXT NOT NULL,
                    dane BOOLEAN NOT NULL,
                    messages BIGINT NOT NULL,
                    last_seen BIGINT NOT NULL,
                    PRIMARY KEY (user_id, domain, day, starttls, encrypted, tls_version, certificate, dane)
                )
                """,
                "CREATE INDEX tls_observations_day ON tls_observations(day)",
            ]
        ),
        // RFC 8689: the message was submitted with REQUIRETLS.
        ("v14-requiretls", ["ALTER TABLE messages ADD COLUMN require_tls BOOLEAN NOT NULL DEFAULT false"]),
        // TLS reporting (RFC 8460): sessions per day, policy domain, policy and result; one
        // leased report row per (day, policy domain).
        (
            "v15-tlsrpt",
            [
                """
                CREATE TABLE tlsrpt_sessions (
                    day BIGINT NOT NULL,
                    domain TEXT NOT NULL,
                    policy_type TEXT NOT NULL,
                    policy_string TEXT NOT NULL,
                    mx_host TEXT NOT NULL,
                    result_type TEXT NOT NULL,
                    sending_ip TEXT NOT NULL,
                    receiving_mx TEXT NOT NULL,
                    receiving_ip TEXT NOT NULL,
                    reason_code TEXT NOT NULL,
                    sessions BIGINT NOT NULL,
                    PRIMARY KEY (day, domain, policy_type, policy_string, mx_host, result_type, sending_ip, receiving_mx,
                                 receiving_ip, reason_code)
                )
                """,
                """
                CREATE TABLE tlsrpt_reports (
                    day BIGINT NOT NULL,
                    domain TEXT NOT NULL,
                    report_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
                    lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
                    lease_owner TEXT NOT NULL DEFAULT '',
                    done TEXT NOT NULL DEFAULT '[]',
                    last_error TEXT NOT NULL DEFAULT '',
                    finished_at DOUBLE PRECISION,
                    PRIMARY KEY (day, domain)
                )
                """,
            ]
        ),
        // Per-user, per-day counters for /v3/stats; SendGrid metrics of earlier events counted in.
        (
            "v16-stats",
            [
                """
                CREATE TABLE stats_daily (
                    user_id BIGINT NOT NULL,
                    day BIGINT NOT NULL,
                    metric TEXT NOT NULL,
                    count BIGINT NOT NULL,
                    PRIMARY KEY (user_id, day, metric)
                )
                """,
                """
                INSERT INTO stats_daily (user_id, day, metric, count)
                SELECT user_id, d, metric, count(*) FROM (
                    SELECT user_id, ((payload::jsonb)->>'timestamp')::bigint / 86400 AS d,
                        unnest(CASE event
                            WHEN 'processed' THEN ARRAY['requests', 'processed']
                            WHEN 'dropped' THEN ARRAY['requests'] || CASE (payload::jsonb)->>'reason'
                                WHEN 'Bounced Address' THEN ARRAY['bounce_drops'] WHEN 'Unsubscribed Address' THEN ARRAY['unsubscribe_drops']
                                WHEN 'Invalid' THEN ARRAY['invalid_emails'] ELSE ARRAY[]::text[] END
                            WHEN 'delivered' THEN ARRAY['delivered']
                            WHEN 'deferred' THEN ARRAY['deferred']
                            WHEN 'bounce' THEN CASE WHEN (payload::jsonb)->>'type' = 'blocked' THEN ARRAY['blocks'] ELSE ARRAY['bounces'] END
                            ELSE ARRAY[]::text[] END) AS metric
                    FROM events
                ) t GROUP BY user_id, d, metric
                """,
            ]
        ),
    ]

    /// Any fixed number: the advisory lock that makes concurrent `migrate`s take turns.
    static let lockKey: Int64 = 0x5EA1_9057

    /// Migration names recorded in the database, oldest first (empty for a new database).
    static func applied(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withConnection { connection in
            var exists = false
            for try await found in try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
                .decode(Bool.self)
            { exists = found }
            return exists ? try await applied(connection, logger: logger) : []
        }
    }

    /// Applies every pending step, each in its own transaction with its record; returns what
    /// it applied. Throws `schemaTooNew` rather than touch a schema from a newer Sealpost.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
            do {
                try await ensureTable(connection, logger: logger)
                let done = try await applied(connection, logger: logger)
                let known = Set(steps.map(\.id))
                if done.contains(where: { !known.contains($0) }) { throw StoreError.schemaTooNew(applied: done.sorted()) }
                var ran: [String] = []
                for step in steps where !done.contains(step.id) {
                    try await connection.withTransaction(logger: logger) { tx in
                        for sql in step.sql { try await tx.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                        try await tx.query(
                            "INSERT INTO schema_migrations (identifier, applied_at) VALUES (\(step.id), clock_timestamp())", logger: logger)
                    }
                    ran.append(step.id)
                }
                try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                return ran
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                throw error
            }
        }
    }

    private static func ensureTable(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (identifier TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)
            """, logger: logger)
    }

    private static func applied(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var names: [String] = []
        for try await name in try await connection.query(
            "SELECT identifier FROM schema_migrations ORDER BY applied_at, identifier", logger: logger
        )
        .decode(String.self) {
            names.append(name)
        }
        return names
    }
}
