import GRDB

/// Versioned schema of the SQLite store. Migrations are append-only: never edit a shipped one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-tenancy-keys-settings") { db in
            try db.execute(sql: """
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
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                INSERT INTO meta (key, value) VALUES ('generation', 0);
                """)
        }
        return migrator
    }
}
