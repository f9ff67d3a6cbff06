using System.Collections.Concurrent;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Durability;

/// <summary>SIGTERM drains: what was queued is committed and acked, sockets close with 1001, the process exits cleanly.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Sigterm_commits_queued_messages_acks_them_and_closes_sockets_with_1001()
    {
        string dataDir = Path.Combine(Path.GetTempPath(), "chat-term", Guid.NewGuid().ToString("N"));
        var settings = new[] { ("Chat:RateLimit:MessagesPerMinute", "0") };
        var server = await ServerProcess.StartAsync(dataDir, null, settings);
        try
        {
            var alice = await server.Api().RegisterAsync("term-alice", "password123");
            var bob = await server.Api().RegisterAsync("term-bob", "password123");
            string chatId = string.CompareOrdinal(alice.UserId, bob.UserId) <= 0 ? $"{alice.UserId}_{bob.UserId}" : $"{bob.UserId}_{alice.UserId}";
            var socket = await ChatSocket.ConnectAsync(server.BaseAddress, alice.Token);
            await socket.NextAsync("ready");

            var acked = new ConcurrentDictionary<string, string>();
            for (int k = 0; k < 500; k++) await socket.SendMessageFrameAsync(chatId, $"m{k}", $"t{k}");
            var first = await socket.NextAsync("ack"); // the burst is being committed: stop the server now
            acked[first.Str("client_msg_id")!] = first.Str("message_id")!;
            int exit = await server.TerminateAsync(TimeSpan.FromSeconds(30));
            await socket.Closed.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0, exit);
            foreach (var f in socket.Drain())
                if (f.Type() == "ack") acked[f.Str("client_msg_id")!] = f.Str("message_id")!;
            Assert.Equal(1001, socket.CloseCode);
            await socket.DisposeAsync();

            server = await ServerProcess.StartAsync(dataDir, null, settings);
            var api = server.Api();
            await api.LoginAsync("term-alice", "password123");
            var page = await api.HistoryAsync(chatId, limit: 100, afterSeq: 0);
            var stored = page.Messages.ToList();
            while (page.HasMore)
            {
                page = await api.HistoryAsync(chatId, limit: 100, afterSeq: stored[^1].Seq);
                stored.AddRange(page.Messages);
            }
            // Every frame the server read before SIGTERM was committed and acked; all acks are in history.
            Assert.NotEmpty(acked);
            foreach (var (clientMsgId, messageId) in acked)
                Assert.Contains(stored, m => m.ClientMsgId == clientMsgId && m.MessageId == messageId);
            Assert.Equal(stored.Count, acked.Count);
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
}
