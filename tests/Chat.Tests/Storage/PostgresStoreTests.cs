using Chat.Client;
using Chat.Storage.Postgres;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace Chat.Tests.Storage;

/// <summary>What only the PostgreSQL store has: start-up migration, durability refusal, and a node running on it.</summary>
public sealed class PostgresStoreTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    [PostgresFact]
    public async Task Nodes_starting_at_once_migrate_the_schema_once_with_hash_partitioned_messages()
    {
        await using var schema = await PostgresTestDatabase.CreateSchemaAsync();
        var stores = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PostgresChatStore.OpenAsync(schema.ConnectionString))).WaitAsync(Timeout);
        foreach (var s in stores) await s.DisposeAsync();
        await using (var again = await PostgresChatStore.OpenAsync(schema.ConnectionString).WaitAsync(Timeout))
            Assert.True(await again.PingAsync(CancellationToken.None));

        Assert.Equal(PostgresSchema.LatestVersion, await CountAsync(schema.ConnectionString, "SELECT COUNT(*) FROM schema_migrations"));
        Assert.Equal(PostgresSchema.Partitions, await CountAsync(schema.ConnectionString,
            "SELECT COUNT(*) FROM pg_inherits WHERE inhparent = 'messages'::regclass"));
        Assert.Equal(1, await CountAsync(schema.ConnectionString,
            "SELECT COUNT(*) FROM pg_partitioned_table WHERE partrelid = 'messages'::regclass AND partstrat = 'h'"));
    }

    [PostgresFact]
    public async Task A_schema_newer_than_the_build_is_refused()
    {
        await using var schema = await PostgresTestDatabase.CreateSchemaAsync();
        await (await PostgresChatStore.OpenAsync(schema.ConnectionString)).DisposeAsync();
        await CountAsync(schema.ConnectionString, "WITH x AS (INSERT INTO schema_migrations(version) VALUES (999) RETURNING 1) SELECT COUNT(*) FROM x");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresChatStore.OpenAsync(schema.ConnectionString));
        Assert.Contains("version 999", ex.Message);
    }

    [PostgresTheory]
    [InlineData("off")]
    [InlineData("local")]
    public async Task Start_up_refuses_a_synchronous_commit_that_can_lose_acked_messages(string value)
    {
        await using var schema = await PostgresTestDatabase.CreateSchemaAsync();
        // Set for our sessions only (the server's own setting stays on): the check reads what our sessions get.
        string unsafeCs = schema.With(b => b.Options = $"-c synchronous_commit={value}");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresChatStore.OpenAsync(unsafeCs));
        Assert.Contains($"synchronous_commit is '{value}'", ex.Message);
        Assert.Equal(0, await CountAsync(schema.ConnectionString,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()")); // refused before touching the schema

        await (await PostgresChatStore.OpenAsync(schema.With(b => b.Options = "-c synchronous_commit=remote_write"))).DisposeAsync();
    }

    [Fact]
    public void The_durability_check_names_every_unsafe_setting()
    {
        Assert.Empty(PostgresDurability.Check("on", "on", "on"));
        Assert.Empty(PostgresDurability.Check("on", "remote_apply", "on"));
        var problems = PostgresDurability.Check("off", "off", "off");
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("fsync is 'off'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("synchronous_commit is 'off'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("full_page_writes is 'off'", StringComparison.Ordinal));
    }

    [PostgresFact]
    public async Task A_node_refuses_to_start_on_unsafe_settings_or_without_a_connection_string()
    {
        await using var schema = await PostgresTestDatabase.CreateSchemaAsync();
        string dataDir = Path.Combine(Path.GetTempPath(), "chat-tests", Guid.NewGuid().ToString("N"));

        await using (var unsafeNode = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Chat:DataDir", dataDir);
            b.UseSetting("Chat:Storage", "postgres");
            b.UseSetting("ConnectionStrings:Postgres", schema.With(x => x.Options = "-c synchronous_commit=off"));
        }))
        {
            var ex = Assert.ThrowsAny<Exception>(() => unsafeNode.Services);
            Assert.Contains("synchronous_commit is 'off'", Flatten(ex));
        }

        await using var missing = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Chat:DataDir", dataDir);
            b.UseSetting("Chat:Storage", "postgres");
        });
        var missingEx = Assert.ThrowsAny<Exception>(() => missing.Services);
        Assert.Contains("ConnectionStrings:Postgres", Flatten(missingEx));
        if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
    }

    private static string Flatten(Exception ex)
    {
        var parts = new List<string>();
        for (Exception? e = ex; e is not null; e = e.InnerException) parts.Add(e.Message);
        if (ex is AggregateException agg) parts.AddRange(agg.Flatten().InnerExceptions.Select(e => e.Message));
        return string.Join(" | ", parts);
    }

    [PostgresFact]
    public async Task A_node_on_postgres_acks_delivers_catches_up_and_serves_history()
    {
        await using var schema = await PostgresTestDatabase.CreateSchemaAsync(maxPoolSize: 10);
        await using var server = await TestServer.StartAsync(("Chat:Storage", "postgres"), ("ConnectionStrings:Postgres", schema.ConnectionString));
        var (alice, aliceAuth) = await server.NewUserAsync("alice");
        var (bob, bobAuth) = await server.NewUserAsync("bob");
        string chatId = (await alice.DirectChatAsync(bobAuth.UserId)).ChatId;

        await using var a = await server.ConnectReadyAsync(aliceAuth.Token);
        await using (var b = await server.ConnectReadyAsync(bobAuth.Token))
        {
            var ack = await a.SendMessageAsync(chatId, "hello bob", "c1");
            Assert.Equal(1, ack.Long("seq"));
            var got = await b.NextAsync("new_message");
            Assert.Equal(ack.Str("message_id"), got.Str("message_id"));
            Assert.Equal("hello bob", got.Str("content"));
            // Bob's device acks (AutoAck): alice gets the delivery receipt, through the pointer written to PostgreSQL.
            var receipt = await a.NextAsync("delivery_receipt");
            Assert.Equal(1, receipt.Long("seq"));

            var retry = await a.SendMessageAsync(chatId, "hello bob", "c1");
            Assert.Equal(ack.Str("message_id"), retry.Str("message_id"));
        }

        // Bob is offline: what alice sends now reaches him on his next connect, in order.
        for (int i = 2; i <= 4; i++) Assert.Equal(i, (await a.SendMessageAsync(chatId, $"m{i}", $"c{i}")).Long("seq"));
        await using (var b = await server.ConnectReadyAsync(bobAuth.Token))
        {
            for (int i = 2; i <= 4; i++) Assert.Equal(i, (await b.NextAsync("new_message")).Long("seq"));
        }

        var history = await bob.HistoryAsync(chatId);
        Assert.Equal([4L, 3L, 2L, 1L], history.Messages.Select(m => m.Seq));
        Assert.Equal(4, (await CountAsync(schema.ConnectionString, "SELECT COUNT(*) FROM messages")));
    }
}

/// <summary>A theory that needs PostgreSQL: skipped locally without CHAT_PG, run (and failing) in CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (PostgresTestDatabase.SkipReason is { } reason) Skip = reason;
    }
}
