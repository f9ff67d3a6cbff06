using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chat.Storage.Postgres;

/// <summary>
/// An ack promises the message survives a crash. That holds only if PostgreSQL flushes the commit to disk before
/// answering, so a node refuses to start on settings that break it. The settings are read on one of our own
/// sessions: per-role, per-database and connection-string (Options=-c ...) overrides are all seen.
/// </summary>
internal static partial class PostgresDurability
{
    /// <summary>synchronous_commit values that wait for the local WAL flush (and, with sync standbys, for them).</summary>
    private static readonly string[] SafeSynchronousCommit = ["on", "remote_write", "remote_apply"];

    public static async Task VerifyAsync(NpgsqlDataSource db, ILogger log, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        string fsync = await ShowAsync(conn, "fsync", ct);
        string synchronousCommit = await ShowAsync(conn, "synchronous_commit", ct);
        string fullPageWrites = await ShowAsync(conn, "full_page_writes", ct);
        var problems = Check(fsync, synchronousCommit, fullPageWrites);
        if (problems.Count > 0)
            throw new InvalidOperationException(
                "Refusing to start on PostgreSQL settings that can lose acknowledged messages: " + string.Join(" ", problems));
        LogDurability(log, fsync, synchronousCommit, fullPageWrites);
    }

    /// <summary>The problems with these settings, each naming the setting and the value it needs; empty when safe.</summary>
    public static IReadOnlyList<string> Check(string fsync, string synchronousCommit, string fullPageWrites)
    {
        var problems = new List<string>();
        if (!IsOn(fsync))
            problems.Add($"fsync is '{fsync}' (must be on: without it a crash can corrupt the database).");
        if (!SafeSynchronousCommit.Contains(synchronousCommit.Trim().ToLowerInvariant()))
            problems.Add($"synchronous_commit is '{synchronousCommit}' (must be on, remote_write or remote_apply: " +
                         "anything weaker acknowledges commits before they are safe; check postgresql.conf, ALTER ROLE/DATABASE ... SET, and the connection string's Options).");
        if (!IsOn(fullPageWrites))
            problems.Add($"full_page_writes is '{fullPageWrites}' (must be on: without it a crash can leave torn pages).");
        return problems;
    }

    private static bool IsOn(string value) => value.Trim().ToLowerInvariant() is "on" or "true" or "yes" or "1";

    private static async Task<string> ShowAsync(NpgsqlConnection conn, string setting, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SHOW {setting}", conn);
        return (string?)await cmd.ExecuteScalarAsync(ct) ?? "";
    }

    [LoggerMessage(5002, LogLevel.Information, "PostgreSQL durability: fsync={Fsync}, synchronous_commit={SynchronousCommit}, full_page_writes={FullPageWrites}")]
    private static partial void LogDurability(ILogger logger, string fsync, string synchronousCommit, string fullPageWrites);
}
