/// The versioned schema both backends share: the same migrations, by the same names, in the
/// same order. Each backend writes them in its own SQL dialect (`SQLiteMigrations`,
/// `PostgresMigrations`); a test checks that both know exactly this list.
public enum Schema {
    public static let migrations = [
        "v1-tenancy-keys-settings",
        "v2-generation",
        "v3-mail-queue",
        "v4-event-webhook",
        "v5-change-log",
        "v6-lease-owners",
        "v7-smtputf8",
        "v8-domain-tls",
        "v9-mta-sts-cache",
        "v10-webhook-signing",
        "v11-suppressions",
        "v12-domain-authentication",
        "v13-tls-observations",
        "v14-requiretls",
        "v15-tlsrpt",
        "v16-stats",
    ]
}
