using Federation.Storage.Postgres;
using Npgsql;

namespace Federation.Storage.Scrolls;

/// <summary>
/// The scroll tables (docs/formats/scroll-storage.md), created and migrated by the project through
/// <see cref="PostgresSchemaMigrator"/>: one transaction under the shared advisory lock, so processes starting
/// together neither race nor fail.
/// </summary>
public static class PostgresScrollSchema
{
    /// <summary>The row of <c>fed_schema_version</c> this store owns; other stores own their own components.</summary>
    public const string Component = "scrolls";

    public static int CurrentVersion => Schema.CurrentVersion;

    /// <summary>Version 1. scroll_lines has no foreign key: it would cost a check per inserted line.</summary>
    public const string Version1Ddl = """
        CREATE TABLE IF NOT EXISTS scroll_heads (
            scroll     text COLLATE "C" PRIMARY KEY,
            size       bigint NOT NULL CHECK (size >= 0),
            generation bigint NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS scroll_lines (
            scroll text COLLATE "C" NOT NULL,
            seq    bigint NOT NULL CHECK (seq >= 0),
            line   bytea NOT NULL CHECK (length(line) > 0),
            PRIMARY KEY (scroll, seq)
        );
        CREATE TABLE IF NOT EXISTS scroll_checkpoints (
            id          bigserial PRIMARY KEY,
            scroll      text COLLATE "C" NOT NULL REFERENCES scroll_heads (scroll),
            size        bigint NOT NULL CHECK (size >= 0),
            note        text NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS scroll_checkpoints_by_scroll ON scroll_checkpoints (scroll, id);
        CREATE TABLE IF NOT EXISTS scroll_truncations (
            id           bigserial PRIMARY KEY,
            scroll       text COLLATE "C" NOT NULL REFERENCES scroll_heads (scroll),
            old_size     bigint NOT NULL,
            new_size     bigint NOT NULL,
            truncated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS scroll_quarantine (
            truncation_id bigint NOT NULL REFERENCES scroll_truncations (id),
            scroll        text COLLATE "C" NOT NULL,
            seq           bigint NOT NULL,
            line          bytea NOT NULL,
            PRIMARY KEY (truncation_id, seq)
        );
        """;

    /// <summary>The scroll tables as a versioned component of the database (steps in version order).</summary>
    public static PostgresSchemaComponent Schema { get; } = new(Component, [Version1Ddl]);

    /// <summary>Creates or upgrades the tables; idempotent; refuses a database newer than this build.</summary>
    /// <exception cref="PostgresSchemaTooNewException">A newer build migrated the database.</exception>
    public static Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken ct) =>
        PostgresSchemaMigrator.MigrateAsync(dataSource, Schema, ct);
}
