import GRDB
import SealpostCore
import SealpostStorage

/// Versioned schema of the SQLite store. Migrations are append-only: never edit a shipped one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-tenancy-keys-settings") { db in
            try db.execute(
                sql: """
                    CREATE TABLE users (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL CHECK (kind IN ('account', 'subuser', 'customer')),
                        name TEXT NOT NULL UNIQUE,
                        email TEXT,
                        parent_id INTEGER REFERENCES users(id),
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX users_parent ON users(parent_id);

                    CREATE TABLE api_keys (
                        id TEXT PRIMARY KEY,
                        user_id INTEGER NOT NULL REFERENCES users(id),
                        name TEXT NOT NULL,
                        -- NULL means full access; otherwise a JSON array of scope names.
                        scopes TEXT,
                        secret_hash BLOB NOT NULL,
                        created_at REAL NOT NULL,
                        revoked_at REAL
                    );
                    CREATE INDEX api_keys_user ON api_keys(user_id);

                    CREATE TABLE enforced_tls (
                        user_id INTEGER PRIMARY KEY REFERENCES users(id),
                        require_tls INTEGER NOT NULL,
                        require_valid_cert INTEGER NOT NULL,
                        version TEXT NOT NULL CHECK (version IN ('1.1', '1.2', '1.3'))
                    );

                    CREATE TABLE settings_audit (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        user_id INTEGER NOT NULL REFERENCES users(id),
                        key_id TEXT,
                        on_behalf_of TEXT,
                        via TEXT NOT NULL,
                        old_value TEXT NOT NULL,
                        new_value TEXT NOT NULL,
                        at REAL NOT NULL
                    );
                    CREATE INDEX settings_audit_user ON settings_audit(user_id);
                    """)
        }
        migrator.registerMigration("v2-generation") { db in
            // Bumped by every write transaction, by any process: lets a server tell its own
            // commits from everybody else's (see SQLiteCache).
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    INSERT INTO meta (key, value) VALUES ('generation', 0);
                    """)
        }
        migrator.registerMigration("v3-mail-queue") { db in
            try db.execute(
                sql: """
                    -- One composed message per personalization of a mail-send request.
                    CREATE TABLE messages (
                        id TEXT PRIMARY KEY,
                        x_message_id TEXT NOT NULL,
                        user_id INTEGER NOT NULL REFERENCES users(id),
                        mail_from TEXT NOT NULL,
                        smtp_id TEXT NOT NULL,
                        content BLOB NOT NULL,
                        categories TEXT NOT NULL,
                        custom_args TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    -- One row per recipient delivery: the durable queue.
                    CREATE TABLE deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        message_id TEXT NOT NULL REFERENCES messages(id),
                        user_id INTEGER NOT NULL,
                        recipient TEXT NOT NULL,
                        domain TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'bounced', 'blocked', 'dropped')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL,
                        expires_at REAL NOT NULL,
                        lease_until REAL NOT NULL DEFAULT 0,
                        last_result TEXT,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
                    -- Event Webhook events, kept until posted (and afterwards, for inspection).
                    CREATE TABLE events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        user_id INTEGER NOT NULL,
                        sg_event_id TEXT NOT NULL UNIQUE,
                        event TEXT NOT NULL,
                        email TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        posted_at REAL
                    );
                    CREATE INDEX events_unposted ON events(posted_at, user_id, id);
                    -- SendGrid's blocks list.
                    CREATE TABLE blocks (
                        user_id INTEGER NOT NULL,
                        email TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        status TEXT NOT NULL,
                        created INTEGER NOT NULL,
                        PRIMARY KEY (user_id, email)
                    );
                    """)
        }
        migrator.registerMigration("v4-event-webhook") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhook_settings (
                        user_id INTEGER PRIMARY KEY REFERENCES users(id),
                        enabled INTEGER NOT NULL,
                        url TEXT NOT NULL,
                        -- JSON object: event name -> bool
                        events TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v5-change-log") { db in
            // What each write transaction changed, by generation: lets every server drop exactly
            // the cache entries that another writer (or itself) made stale.
            try db.execute(
                sql: """
                    CREATE TABLE changes (generation INTEGER NOT NULL, scope TEXT NOT NULL);
                    CREATE INDEX changes_generation ON changes(generation);
                    """)
        }
        migrator.registerMigration("v6-lease-owners") { db in
            // Which process holds a delivery's lease: a result is recorded only by the holder,
            // so a node whose lease ran out can never overwrite the work of the one that took
            // over. Webhook batches get leases of their own, so two posters never send the same.
            try db.execute(
                sql: """
                    ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
                    ALTER TABLE events ADD COLUMN post_lease_until REAL NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v7-smtputf8") { db in
            // An internationalized message (UTF-8 in its headers) goes only to SMTPUTF8 hops.
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN smtputf8 INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v8-domain-tls") { db in
            // Per-recipient-domain Enforced TLS entries (`.example.com`: every subdomain), and their
            // audit trail (old_value NULL: created; new_value NULL: deleted).
            try db.execute(
                sql: """
                    CREATE TABLE domain_tls (
                        user_id INTEGER NOT NULL REFERENCES users(id),
                        domain TEXT NOT NULL,
                        require_tls INTEGER NOT NULL,
                        require_valid_cert INTEGER NOT NULL,
                        version TEXT NOT NULL CHECK (version IN ('1.1', '1.2', '1.3')),
                        PRIMARY KEY (user_id, domain)
                    );
                    CREATE TABLE domain_tls_audit (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        user_id INTEGER NOT NULL REFERENCES users(id),
                        domain TEXT NOT NULL,
                        key_id TEXT,
                        on_behalf_of TEXT,
                        via TEXT NOT NULL,
                        old_value TEXT,
                        new_value TEXT,
                        at REAL NOT NULL
                    );
                    CREATE INDEX domain_tls_audit_user ON domain_tls_audit(user_id);
                    """)
        }
        migrator.registerMigration("v9-mta-sts-cache") { db in
            // MTA-STS policies as fetched (RFC 8461 §5.1), until fetched_at + max_age.
            try db.execute(
                sql: """
                    CREATE TABLE mta_sts_policies (
                        domain TEXT PRIMARY KEY,
                        policy_id TEXT NOT NULL,
                        policy TEXT NOT NULL,
                        fetched_at REAL NOT NULL,
                        expires_at REAL NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("v10-webhook-signing") { db in
            // The signed Event Webhook's P-256 private key (raw scalar), per user, while signing is on.
            try db.execute(
                sql: """
                    CREATE TABLE webhook_signing (
                        user_id INTEGER PRIMARY KEY REFERENCES users(id),
                        private_key BLOB NOT NULL,
                        created_at REAL NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("v11-suppressions") { db in
            // Every suppression list in one table (the blocks list moves in): bounces, invalid
            // emails and global unsubscribes keep mail from being sent; blocks are only listed.
            try db.execute(
                sql: """
                    CREATE TABLE suppressions (
                        user_id INTEGER NOT NULL,
                        list TEXT NOT NULL CHECK (list IN ('blocks', 'bounces', 'invalid_emails', 'unsubscribes')),
                        email TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        status TEXT NOT NULL,
                        created INTEGER NOT NULL,
                        PRIMARY KEY (user_id, list, email)
                    );
                    CREATE INDEX suppressions_email ON suppressions(user_id, email);
                    INSERT INTO suppressions (user_id, list, email, reason, status, created)
                        SELECT user_id, 'blocks', email, reason, status, created FROM blocks;
                    DROP TABLE blocks;
                    """)
        }
        migrator.registerMigration("v12-domain-authentication") { db in
            // DKIM sending domains: the owner tenant's key pair (PKCS#1 DER private key; the
            // public key as published), valid once the TXT record was found.
            try db.execute(
                sql: """
                    CREATE TABLE authenticated_domains (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        owner_id INTEGER NOT NULL REFERENCES users(id),
                        domain TEXT NOT NULL,
                        subdomain TEXT NOT NULL,
                        selector TEXT NOT NULL,
                        private_key BLOB NOT NULL,
                        public_key TEXT NOT NULL,
                        is_default INTEGER NOT NULL,
                        custom_spf INTEGER NOT NULL,
                        valid INTEGER NOT NULL,
                        created_at REAL NOT NULL,
                        UNIQUE (owner_id, domain, subdomain)
                    )
                    """)
        }
        migrator.registerMigration("v13-tls-observations") { db in
            // What delivery sessions found per user, recipient domain and UTC day ('' for none):
            // the impact report's data, kept TLSObservation.retentionDays.
            try db.execute(
                sql: """
                    CREATE TABLE tls_observations (
                        user_id INTEGER NOT NULL,
                        domain TEXT NOT NULL,
                        day INTEGER NOT NULL,
                        starttls INTEGER NOT NULL,
                        encrypted INTEGER NOT NULL,
                        tls_version TEXT NOT NULL,
                        certificate TEXT NOT NULL,
                        dane INTEGER NOT NULL,
                        messages INTEGER NOT NULL,
                        last_seen INTEGER NOT NULL,
                        PRIMARY KEY (user_id, domain, day, starttls, encrypted, tls_version, certificate, dane)
                    );
                    CREATE INDEX tls_observations_day ON tls_observations(day);
                    """)
        }
        migrator.registerMigration("v14-requiretls") { db in
            // RFC 8689: the message was submitted with REQUIRETLS (an envelope flag, kept apart
            // from the content).
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN require_tls INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v15-tlsrpt") { db in
            // TLS reporting (RFC 8460): sessions counted per day, policy domain, policy and result
            // ('' for what a success has not); one report row per (day, policy domain), leased by
            // whoever sends it, so that it goes out once.
            try db.execute(
                sql: """
                    CREATE TABLE tlsrpt_sessions (
                        day INTEGER NOT NULL,
                        domain TEXT NOT NULL,
                        policy_type TEXT NOT NULL,
                        policy_string TEXT NOT NULL,
                        mx_host TEXT NOT NULL,
                        result_type TEXT NOT NULL,
                        sending_ip TEXT NOT NULL,
                        receiving_mx TEXT NOT NULL,
                        receiving_ip TEXT NOT NULL,
                        reason_code TEXT NOT NULL,
                        sessions INTEGER NOT NULL,
                        PRIMARY KEY (day, domain, policy_type, policy_string, mx_host, result_type, sending_ip, receiving_mx,
                                     receiving_ip, reason_code)
                    );
                    CREATE TABLE tlsrpt_reports (
                        day INTEGER NOT NULL,
                        domain TEXT NOT NULL,
                        report_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL DEFAULT 0,
                        lease_until REAL NOT NULL DEFAULT 0,
                        lease_owner TEXT NOT NULL DEFAULT '',
                        done TEXT NOT NULL DEFAULT '[]',
                        last_error TEXT NOT NULL DEFAULT '',
                        finished_at REAL,
                        PRIMARY KEY (day, domain)
                    );
                    """)
        }
        migrator.registerMigration("v16-stats") { db in
            // Per-user, per-day counters for /v3/stats, kept as events are stored. The SendGrid
            // metrics of events stored before are counted in from them; TLS levels (not in the
            // stored events) count from here on.
            try db.execute(
                sql: """
                    CREATE TABLE stats_daily (
                        user_id INTEGER NOT NULL,
                        day INTEGER NOT NULL,
                        metric TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (user_id, day, metric)
                    );
                    INSERT INTO stats_daily (user_id, day, metric, count)
                    SELECT user_id, CAST(json_extract(payload, '$.timestamp') AS INTEGER) / 86400 AS d, metric, count(*)
                    FROM (
                        SELECT user_id, payload, 'requests' AS metric FROM events WHERE event IN ('processed', 'dropped')
                        UNION ALL SELECT user_id, payload, 'processed' FROM events WHERE event = 'processed'
                        UNION ALL SELECT user_id, payload, 'delivered' FROM events WHERE event = 'delivered'
                        UNION ALL SELECT user_id, payload, 'deferred' FROM events WHERE event = 'deferred'
                        UNION ALL SELECT user_id, payload, CASE WHEN json_extract(payload, '$.type') = 'blocked' THEN 'blocks' ELSE 'bounces' END
                            FROM events WHERE event = 'bounce'
                        UNION ALL SELECT user_id, payload, CASE json_extract(payload, '$.reason')
                                WHEN 'Bounced Address' THEN 'bounce_drops' WHEN 'Unsubscribed Address' THEN 'unsubscribe_drops'
                                ELSE 'invalid_emails' END
                            FROM events WHERE event = 'dropped' AND json_extract(payload, '$.reason') IN ('Bounced Address', 'Unsubscribed Address', 'Invalid')
                    )
                    GROUP BY user_id, d, metric;
                    """)
        }
        return migrator
    }
}
