// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "sealpost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sealpost", targets: ["sealpost"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.30.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // The stack, bottom up (docs/architecture.md): core model -> storage interfaces ->
        // backends; SMTP client -> delivery; the API on core and storage only; the executable
        // wires them.

        // Pure core: tenancy, settings, scopes, API keys, the mail request and its composer,
        // dot-stuffing, queue records, events and IDs. No NIO, no database.
        .target(
            name: "SealpostCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                // RSA for DKIM signatures.
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Storage interfaces and the algorithms both backends share (read cache, claims).
        .target(
            name: "SealpostStorage",
            dependencies: ["SealpostCore"],
            swiftSettings: swiftSettings
        ),
        // The storage interfaces on SQLite (GRDB): the embedded default.
        .target(
            name: "SealpostSQLite",
            dependencies: [
                "SealpostCore",
                "SealpostStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The C API, for the wal-index header (SQLiteCache's change detection).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The same interfaces on PostgreSQL (postgres-nio), for several nodes on one database.
        .target(
            name: "SealpostPostgres",
            dependencies: [
                "SealpostCore",
                "SealpostStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // libresolv, for MX lookups (headers and library come with libc6-dev).
        .systemLibrary(name: "CResolv", path: "Sources/CResolv"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // The SMTP client: reply parsing, the conversation state machine, STARTTLS and
        // certificate judgement, and the TLS security policies it asks (pure).
        .target(
            name: "SealpostSMTP",
            dependencies: [
                "SealpostCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Delivery: the scheduler, destination delivery, outcomes and events, routing/MX, the
        // Event Webhook poster.
        .target(
            name: "SealpostDelivery",
            dependencies: [
                "SealpostCore",
                "SealpostStorage",
                "SealpostSMTP",
                "CResolv",
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // SMTP submission's backend on the store (keys, rate limit, queue) and its service.
        .target(
            name: "SealpostSubmission",
            dependencies: [
                "SealpostCore",
                "SealpostStorage",
                "SealpostSMTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP API: Hummingbird router, auth, rate limits, SendGrid-shaped errors, OpenAPI.
        // On core and storage only: never on delivery.
        .target(
            name: "SealpostAPI",
            dependencies: [
                "SealpostCore",
                "SealpostStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sealpost",
            dependencies: [
                "SealpostAPI",
                "SealpostDelivery",
                "SealpostSMTP",
                "SealpostSubmission",
                "SealpostStorage",
                "SealpostSQLite",
                "SealpostPostgres",
                "SealpostCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SealpostCoreTests",
            dependencies: ["SealpostCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SealpostDeliveryTests",
            dependencies: [
                "SealpostDelivery", "SealpostSMTP", "SealpostSubmission", "SealpostCore", "SealpostStorage", "SealpostSQLite",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SealpostStorageTests",
            dependencies: [
                "SealpostStorage", "SealpostSQLite", "SealpostPostgres", "SealpostCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SealpostAPITests",
            dependencies: [
                "SealpostAPI",
                "SealpostStorage",
                "SealpostSQLite",
                "SealpostCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
