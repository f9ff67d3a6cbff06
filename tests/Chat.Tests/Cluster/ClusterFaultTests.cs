using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Npgsql;

namespace Chat.Tests.Cluster;

/// <summary>
/// Failures of a cluster's parts, each bounded to seconds: a node killed with SIGKILL under load, Redis restarted under
/// load (a private redis-server, so concurrently running tests keep theirs), and PostgreSQL refusing connections
/// (a private database, blocked and unblocked).
/// </summary>
public sealed class ClusterFaultTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [ClusterFact]
    public async Task Kill_9_of_a_node_under_load_its_clients_move_to_another_node_and_every_acked_message_is_stored_once_in_order()
    {
        const int Senders = 3, PerSender = 60;
        await using var schema = await ClusterBackends.CreateSchemaAsync();
        string prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        string dataDir = Path.Combine(Path.GetTempPath(), "chat-cluster", Guid.NewGuid().ToString("N"));
        (string, string)[] settings =
        [
            ("Chat:Storage", "postgres"), ("ConnectionStrings:Postgres", schema.ConnectionString),
            ("Chat:Backplane", "redis"), ("ConnectionStrings:Redis", ClusterBackends.RequireRedis()),
            ("Chat:BlobsShared", "true"), ("Chat:SigningKey", "cluster-test-signing-key-0123456789abcdef"),
            ("Chat:Redis:KeyPrefix", prefix), ("Chat:Redis:EntryTtlSeconds", "6"), ("Chat:Redis:RefreshSeconds", "1"),
            ("Chat:RateLimit:MessagesPerMinute", "0"),
        ];
        var victim = await ServerProcess.StartAsync(dataDir, null, settings);
        ServerProcess survivor;
        try
        {
            survivor = await ServerProcess.StartAsync(dataDir, null, settings);
        }
        catch
        {
            await victim.DisposeAsync(); // a failed start must not leave the first node running after the test
            throw;
        }
        try
        {
            var receiver = await survivor.Api().RegisterAsync("rcv-" + prefix, "password123");
            var senders = new List<AuthResponse>();
            for (int i = 0; i < Senders; i++) senders.Add(await victim.Api().RegisterAsync($"snd{i}-{prefix}", "password123"));
            var group = await survivor.Api(receiver.Token).CreateGroupAsync("load", senders.Select(s => s.UserId));
            await using var rcv = await ChatSocket.ConnectAsync(survivor.BaseAddress, receiver.Token);
            await rcv.NextAsync("ready");

            // Each sender sends one message at a time and retries an unacked one (same client_msg_id) on the other node.
            var acked = new ConcurrentDictionary<string, (string MessageId, long Seq)>();
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var loops = senders.Select((s, i) => Task.Run(async () =>
            {
                var node = victim;
                var socket = await ChatSocket.ConnectAsync(node.BaseAddress, s.Token);
                await socket.NextAsync("ready");
                for (int k = 0; k < PerSender; k++)
                {
                    string id = $"{i}-{k}";
                    while (true)
                    {
                        try
                        {
                            var ack = await socket.SendMessageAsync(group.GroupId, $"m{id}", id, timeout: TimeSpan.FromSeconds(5));
                            acked[id] = (ack.Str("message_id")!, ack.Long("seq"));
                            break;
                        }
                        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.Net.WebSockets.WebSocketException)
                        {
                            // The node died under us: reconnect to the survivor and retry the same message.
                            await killed.Task.WaitAsync(Wait);
                            await socket.DisposeAsync();
                            node = survivor;
                            socket = await ChatSocket.ConnectAsync(node.BaseAddress, s.Token);
                            await socket.NextAsync("ready");
                        }
                    }
                }
                await socket.DisposeAsync();
            })).ToList();

            var deadline = DateTime.UtcNow + Wait;
            while (acked.Count < Senders * PerSender / 3 && DateTime.UtcNow < deadline) await Task.Delay(10);
            await victim.KillAsync();
            int ackedAtKill = acked.Count;
            killed.SetResult();
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.InRange(ackedAtKill, 1, Senders * PerSender - 1); // the kill really happened mid-load

            // The store: every message exactly once, seq 1..N without gaps, each acked one with its acked id and seq.
            var history = await AllMessagesAsync(survivor.Api(receiver.Token), group.GroupId);
            Assert.Equal(Senders * PerSender, history.Count);
            Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(m => m.Seq));
            Assert.Equal(history.Count, history.Select(m => m.ClientMsgId).Distinct().Count());
            foreach (var (id, (messageId, seq)) in acked)
            {
                var stored = history.Single(m => m.ClientMsgId == id);
                Assert.Equal((messageId, seq), (stored.MessageId, stored.Seq));
            }

            // The receiver (on the survivor) got everything live or by gap resync, in seq order, nothing twice.
            var got = new List<JsonElement>();
            while (got.Count < history.Count) got.Add(await rcv.NextAsync("new_message", Wait));
            Assert.Equal(history.Select(m => m.Seq), got.Select(f => f.Long("seq")));
        }
        catch
        {
            Console.WriteLine("victim output:\n" + victim.Output + "\nsurvivor output:\n" + survivor.Output);
            throw;
        }
        finally
        {
            await victim.DisposeAsync();
            await survivor.DisposeAsync();
            TryDelete(dataDir);
        }
    }

    [ClusterFact]
    public async Task Redis_restart_under_load_delivery_resumes_and_a_reconnecting_device_misses_nothing()
    {
        await using var redis = await PrivateRedis.StartAsync();
        await using var cluster = await TestCluster.StartAsync(2, ("ConnectionStrings:Redis", redis.ConnectionString));
        var (_, alice) = await cluster.NewUserAsync(0, "ra");
        var (_, bob) = await cluster.NewUserAsync(1, "rb");
        string chat = string.CompareOrdinal(alice.UserId, bob.UserId) < 0 ? $"{alice.UserId}_{bob.UserId}" : $"{bob.UserId}_{alice.UserId}";
        await using var a = await cluster.ConnectReadyAsync(0, alice.Token);
        var b = await cluster.ConnectReadyAsync(1, bob.Token);

        var acked = new List<string>();
        async Task SendAsync(int n)
        {
            for (int i = 0; i < n; i++) acked.Add((await a.SendMessageAsync(chat, $"m{acked.Count}", timeout: Wait)).Str("message_id")!);
        }

        await SendAsync(10);
        await redis.ShutdownAsync();
        await SendAsync(10); // Redis is down: the store still acks; live pushes to node 1 are lost
        await redis.StartAgainAsync();

        // Delivery between the nodes resumes by itself (reconnect, resubscribe, re-register the devices).
        var sw = Stopwatch.StartNew();
        string? resumed = null;
        while (resumed is null && sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            await SendAsync(1);
            string last = acked[^1];
            try
            {
                await b.NextAsync(f => f.Type() == "new_message" && f.Str("message_id") == last, TimeSpan.FromSeconds(1));
                resumed = last;
            }
            catch (TimeoutException)
            {
            }
        }
        Assert.NotNull(resumed);

        // bob reconnects (same device): together with what it already got, it has every acked message.
        var firstSocket = b.Drain().Where(f => f.Type() == "new_message").Select(f => f.Str("message_id")!).Append(resumed!).ToList();
        await b.DisposeAsync();
        await using var b2 = await cluster.ConnectReadyAsync(1, bob.Token);
        var seen = new HashSet<string>(firstSocket);
        var deadline = DateTime.UtcNow + Wait;
        while (!acked.All(seen.Contains) && DateTime.UtcNow < deadline)
        {
            try
            {
                seen.Add((await b2.NextAsync("new_message", TimeSpan.FromSeconds(1))).Str("message_id")!);
            }
            catch (TimeoutException)
            {
            }
        }
        Assert.DoesNotContain(acked, id => !seen.Contains(id));
    }

    [ClusterFact]
    public async Task PostgreSQL_unavailable_sends_get_an_error_never_an_ack_and_the_node_recovers_by_itself()
    {
        await using var db = await PrivateDatabase.CreateAsync();
        await using var server = await TestServer.StartAsync(
            ("Chat:Storage", "postgres"), ("ConnectionStrings:Postgres", db.ConnectionString));
        server.AllowErrors = true; // failed commits are logged as errors, as they should be
        var (_, alice) = await server.NewUserAsync("pa");
        var (_, bob) = await server.NewUserAsync("pb");
        string chat = string.CompareOrdinal(alice.UserId, bob.UserId) < 0 ? $"{alice.UserId}_{bob.UserId}" : $"{bob.UserId}_{alice.UserId}";
        await using var a = await server.ConnectReadyAsync(alice.Token);
        await a.SendMessageAsync(chat, "before");
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };

        await db.BlockAsync();
        await a.SendMessageFrameAsync(chat, "during", "during-1");
        var reply = await a.NextAsync(f => f.Str("client_msg_id") == "during-1", TimeSpan.FromSeconds(30));
        Assert.Equal("error", reply.Type());
        Assert.Equal(ErrorCodes.Unavailable, reply.Str("code"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/healthz")).StatusCode);

        await db.UnblockAsync();
        // The node needs no restart: health comes back, and the retry (same client_msg_id) is stored once.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await http.GetAsync("/healthz")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        var ack = await a.SendMessageAsync(chat, "during", "during-1", timeout: TimeSpan.FromSeconds(20));
        Assert.Equal(2, ack.Long("seq"));
        var again = await a.SendMessageAsync(chat, "during", "during-1");
        Assert.Equal(ack.Str("message_id"), again.Str("message_id"));
        var history = await AllMessagesAsync(server.Api(alice.Token), chat);
        Assert.Equal(["before", "during"], history.Select(m => m.Content));
    }

    private static async Task<List<MessageDto>> AllMessagesAsync(ChatApi api, string chatId)
    {
        var all = new List<MessageDto>();
        while (true)
        {
            var page = await api.HistoryAsync(chatId, limit: 100, afterSeq: all.Count == 0 ? 0 : all[^1].Seq);
            all.AddRange(page.Messages);
            if (!page.HasMore) return all;
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A redis-server of this test alone on a free port, started like tools/services.sh does; always stopped.</summary>
    private sealed class PrivateRedis : IAsyncDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "chat-redis", Guid.NewGuid().ToString("N"));
        private readonly int _port = ServerProcess.FreePort();

        public string ConnectionString => $"127.0.0.1:{_port}";

        public static async Task<PrivateRedis> StartAsync()
        {
            var r = new PrivateRedis();
            Directory.CreateDirectory(r._dir);
            await r.StartAgainAsync();
            return r;
        }

        public async Task StartAgainAsync()
        {
            await RunAsync("redis-server", "--bind", "127.0.0.1", "--port", _port.ToString(), "--daemonize", "yes", "--save", "",
                "--appendonly", "no", "--dir", _dir, "--pidfile", Path.Combine(_dir, "redis.pid"), "--logfile", Path.Combine(_dir, "redis.log"));
            for (int i = 0; i < 50; i++)
            {
                if (await RunAsync("redis-cli", "-p", _port.ToString(), "ping") == "PONG") return;
                await Task.Delay(100);
            }
            throw new InvalidOperationException("The private redis-server did not start.");
        }

        public async Task ShutdownAsync()
        {
            await RunAsync("redis-cli", "-p", _port.ToString(), "shutdown", "nosave");
            for (int i = 0; i < 50 && await RunAsync("redis-cli", "-p", _port.ToString(), "ping") == "PONG"; i++) await Task.Delay(100);
        }

        private static async Task<string> RunAsync(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string output = await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            return output.Trim();
        }

        public async ValueTask DisposeAsync()
        {
            await ShutdownAsync();
            TryDelete(_dir);
        }
    }

    /// <summary>A database of this test alone, which it can make refuse connections without touching anyone else's.</summary>
    private sealed class PrivateDatabase : IAsyncDisposable
    {
        private readonly string _name = "chat_fault_" + Guid.NewGuid().ToString("N")[..12];
        private readonly string _admin = ClusterBackends.RequirePostgres();

        public string ConnectionString => new NpgsqlConnectionStringBuilder(_admin) { Database = _name, Timeout = 3, CommandTimeout = 10 }.ConnectionString;

        public static async Task<PrivateDatabase> CreateAsync()
        {
            var d = new PrivateDatabase();
            await d.ExecAsync($"CREATE DATABASE {d._name}");
            return d;
        }

        public async Task BlockAsync()
        {
            await ExecAsync($"ALTER DATABASE {_name} ALLOW_CONNECTIONS false");
            await ExecAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_name}'");
        }

        public Task UnblockAsync() => ExecAsync($"ALTER DATABASE {_name} ALLOW_CONNECTIONS true");

        private async Task ExecAsync(string sql)
        {
            await using var conn = new NpgsqlConnection(_admin);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(sql, conn);
            await cmd.ExecuteNonQueryAsync();
        }

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await ExecAsync($"ALTER DATABASE {_name} ALLOW_CONNECTIONS true");
            await ExecAsync($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
        }
    }
}
