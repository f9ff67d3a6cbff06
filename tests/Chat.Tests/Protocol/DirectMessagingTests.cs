using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

public sealed class DirectMessagingTests
{
    [Fact]
    public async Task Message_is_acked_then_delivered_to_recipient_and_senders_other_device()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, aliceAuth) = await server.NewUserAsync("alice");
        var (_, bobAuth) = await server.NewUserAsync("bob");
        var (_, alice2Auth) = await server.LoginAsync(aliceAuth.Username, "laptop");
        string chatId = (await alice.DirectChatAsync(bobAuth.UserId)).ChatId;

        await using var a = await server.ConnectReadyAsync(aliceAuth.Token);
        await using var a2 = await server.ConnectReadyAsync(alice2Auth.Token);
        await using var b = await server.ConnectReadyAsync(bobAuth.Token);

        var ack = await a.SendMessageAsync(chatId, "hello bob", "c1");
        Assert.Equal(1, ack.Long("seq"));
        Assert.Equal(chatId, ack.Str("chat_id"));

        var got = await b.NextAsync("new_message");
        Assert.Equal("hello bob", got.Str("content"));
        Assert.Equal(aliceAuth.UserId, got.Str("from"));
        Assert.Equal(ack.Str("message_id"), got.Str("message_id"));
        var mine = await a2.NextAsync("new_message");
        Assert.Equal(ack.Str("message_id"), mine.Str("message_id"));

        // A retry with the same client_msg_id stores nothing new and answers the same ack.
        var again = await a.SendMessageAsync(chatId, "hello bob", "c1");
        Assert.Equal(ack.Str("message_id"), again.Str("message_id"));
        Assert.Equal(1, again.Long("seq"));
        var second = await a.SendMessageAsync(chatId, "second", "c2");
        Assert.Equal(2, second.Long("seq"));
        Assert.Equal(2, (await b.NextAsync("new_message")).Long("seq"));

        var history = await alice.HistoryAsync(chatId);
        Assert.Equal([2L, 1L], history.Messages.Select(m => m.Seq));
    }
}
