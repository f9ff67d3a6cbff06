using System.Collections.Concurrent;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Durability;

/// <summary>Guarantee 1 (durable ack) and 2 (exactly-once storage) across a kill -9 of the server process.</summary>
public sealed class CrashTests
{
    private const int Senders = 4;
    private const int PerSender = 2500;

    [Fact]
    public async Task Every_acked_message_survives_kill_9_exactly_once_in_order_and_retries_do_not_duplicate()
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "chat-crash", Guid.NewGuid().ToString("N"));
        var settings = new[] { ("Chat:RateLimit:MessagesPerMinute", "0") };
        var server = await ServerProcess.StartAsync(dataDir, null, settings);
        try
        {
            var recipientApi = server.Api();
            var recipient = await recipientApi.RegisterAsync("crash-recipient", "password123");
            var senders = new List<(AuthResponse Auth, string ChatId)>();
            for (int i = 0; i < Senders; i++)
            {
                var auth = await server.Api().RegisterAsync($"crash-sender{i}", "password123");
                senders.Add((auth, ChatIdOf(auth.UserId, recipient.UserId)));
            }

            // Each sender fires its messages without waiting; acks are collected as they come.
            var acked = new ConcurrentDictionary<string, (string MessageId, long Seq, string ChatId)>();
            var sockets = new List<ChatSocket>();
            var readers = new List<Task>();
            foreach (var (auth, chatId) in senders)
            {
                var socket = await ChatSocket.ConnectAsync(server.BaseAddress, auth.Token);
                await socket.NextAsync("ready");
                sockets.Add(socket);
                readers.Add(CollectAcksAsync(socket, acked));
                _ = Task.Run(async () =>
                {
                    try
                    {
                        for (int k = 0; k < PerSender; k++) await socket.SendMessageFrameAsync(chatId, $"m{k}", $"{auth.Username}-{k}");
                    }
                    catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException or OperationCanceledException)
                    {
                        // the server died mid-burst: expected
                    }
                });
            }

            // Kill mid-burst: as soon as some (far from all) of the messages were acked.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (acked.Count < 300 && DateTime.UtcNow < deadline) await Task.Delay(1);
            await server.KillAsync();
            int ackedAtKill = acked.Count;
            await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(10));
            foreach (var s in sockets) await s.DisposeAsync();
            Assert.InRange(ackedAtKill, 1, Senders * PerSender - 1);

            // Restart on the same data folder: every acked message is there exactly once, seq 1..n without gaps.
            server = await ServerProcess.StartAsync(dataDir, null, settings);
            var api = server.Api();
            await api.LoginAsync("crash-recipient", "password123");
            foreach (var (auth, chatId) in senders)
            {
                var stored = await ReadAllAsync(api, chatId);
                Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored.Select(m => m.Seq));
                Assert.Equal(stored.Count, stored.Select(m => m.ClientMsgId).Distinct().Count());
                var byClientId = stored.ToDictionary(m => m.ClientMsgId);
                foreach (var (clientMsgId, ack) in acked.Where(a => a.Value.ChatId == chatId))
                {
                    Assert.True(byClientId.TryGetValue(clientMsgId, out var m), $"acked message {clientMsgId} lost");
                    Assert.Equal(ack.MessageId, m!.MessageId);
                    Assert.Equal(ack.Seq, m.Seq);
                }
            }

            // Clients resend everything not acked, with the same client_msg_id (pipelined, as fast as they can):
            // nothing is duplicated, and every chat ends with exactly PerSender messages, seq 1..PerSender.
            foreach (var (auth, chatId) in senders)
            {
                await using var socket = await ChatSocket.ConnectAsync(server.BaseAddress, (await server.Api().LoginAsync(auth.Username, "password123")).Token);
                await socket.NextAsync("ready");
                var missing = Enumerable.Range(0, PerSender).Select(k => (k, Id: $"{auth.Username}-{k}")).Where(x => !acked.ContainsKey(x.Id)).ToList();
                foreach (var (k, id) in missing) await socket.SendMessageFrameAsync(chatId, $"m{k}", id);
                for (int n = 0; n < missing.Count; n++)
                {
                    var ack = await socket.NextAsync(f => f.Type() is "ack" or "error", TimeSpan.FromSeconds(60));
                    Assert.Equal("ack", ack.Type());
                    acked[ack.Str("client_msg_id")!] = (ack.Str("message_id")!, ack.Long("seq"), chatId);
                }
                var stored = await ReadAllAsync(api, chatId);
                Assert.Equal(PerSender, stored.Count);
                Assert.Equal(Enumerable.Range(1, PerSender).Select(i => (long)i), stored.Select(m => m.Seq));
                Assert.Equal(PerSender, stored.Select(m => m.ClientMsgId).Distinct().Count());
                foreach (var m in stored) Assert.Equal(acked[m.ClientMsgId].MessageId, m.MessageId);
            }
        }
        finally
        {
            await server.DisposeAsync();
            try
            {
                Directory.Delete(dataDir, true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string ChatIdOf(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? $"{a}_{b}" : $"{b}_{a}";

    private static async Task CollectAcksAsync(ChatSocket socket, ConcurrentDictionary<string, (string, long, string)> acked)
    {
        try
        {
            while (true)
            {
                var f = await socket.NextAsync(x => x.Type() is "ack" or "error", TimeSpan.FromSeconds(60));
                if (f.Type() == "ack") acked[f.Str("client_msg_id")!] = (f.Str("message_id")!, f.Long("seq"), f.Str("chat_id")!);
                else throw new InvalidOperationException("unexpected error frame: " + f.GetRawText());
            }
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Socket closed", StringComparison.Ordinal))
        {
        }
    }

    private static async Task<List<MessageDto>> ReadAllAsync(ChatApi api, string chatId)
    {
        var all = new List<MessageDto>();
        long after = 0;
        while (true)
        {
            var page = await api.HistoryAsync(chatId, limit: 100, afterSeq: after);
            all.AddRange(page.Messages);
            if (!page.HasMore || page.Messages.Count == 0) return all;
            after = page.Messages[^1].Seq;
        }
    }
}
