using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md "Chat list".</summary>
public sealed class ChatListTests
{
    private static List<JsonElement> Chats(ProtocolKit.Reply r) => r.Body.GetProperty("chats").EnumerateArray().ToList();

    [Fact]
    public async Task Chat_list_orders_by_activity_with_last_message_exact_unread_counts_and_chat_details()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync("me");
        var reg = await server.PostAsync("/api/auth/register", new { username = "john-" + Guid.NewGuid().ToString("N")[..6], password = "password123", display_name = "John" }, null);
        string johnId = reg.Body.Str("user_id")!, johnToken = reg.Body.Str("token")!;
        var (_, kim) = await server.NewUserAsync("kim");
        await using var sMe = await server.ConnectReadyAsync(me.Token);
        await using var sJohn = await server.ConnectReadyAsync(johnToken);
        await using var sKim = await server.ConnectReadyAsync(kim.Token);
        string withJohn = ProtocolKit.DirectId(me.UserId, johnId);
        string withKim = ProtocolKit.DirectId(me.UserId, kim.UserId);
        string url = $"/api/users/{me.UserId}/chats";

        // A direct chat appears once it has a message; a group as soon as you are a member.
        await server.PostAsync("/api/chats/direct", new { user_id = kim.UserId }, me.Token);
        Assert.Empty(Chats(await server.GetAsync(url, me.Token)));
        var group = await server.PostAsync("/api/groups", new { name = "Team Chat", members = new[] { johnId, me.UserId } }, kim.Token);
        string gid = group.Body.Str("group_id")!;
        var list = Chats(await server.GetAsync(url, me.Token));
        var onlyGroup = Assert.Single(list);
        Assert.Equal(gid, onlyGroup.Str("chat_id"));
        Assert.Equal("group", onlyGroup.Str("type"));
        Assert.Equal("Team Chat", onlyGroup.Str("name"));
        Assert.Equal(3, onlyGroup.Long("member_count"));
        Assert.Equal(0, onlyGroup.Long("unread_count"));
        Assert.Equal(0, onlyGroup.Long("last_read_seq"));
        Assert.True(onlyGroup.TryGetProperty("last_message", out var none) && none.ValueKind == JsonValueKind.Null, onlyGroup.ToString());

        // Activity: john → me (3 messages), me → john (1), kim in the group (2), then me → kim (1).
        for (int i = 1; i <= 3; i++) await sJohn.SendMessageAsync(withJohn, $"john {i}", $"j{i}");
        await sMe.SendMessageAsync(withJohn, "my reply", "m1");
        await sKim.SendMessageAsync(gid, "team 1", "k1");
        await sKim.SendMessageAsync(gid, "Meeting at 3pm", "k2");
        await Task.Delay(5); // distinct updated_at for the ordering assertion
        var last = await sMe.SendMessageAsync(withKim, "See you tomorrow", "m2");

        var res = await server.GetAsync(url, me.Token);
        res.AssertStatus(HttpStatusCode.OK);
        Assert.False(res.Body.GetProperty("has_more").GetBoolean());
        list = Chats(res);
        Assert.Equal([withKim, gid, withJohn], list.Select(c => c.Str("chat_id")));
        var updated = list.Select(c => c.Long("updated_at")).ToList();
        Assert.True(updated.SequenceEqual(updated.OrderDescending()), "newest activity first");

        var kimChat = list[0];
        Assert.Equal("direct", kimChat.Str("type"));
        var other = kimChat.GetProperty("other_user");
        Assert.Equal(kim.UserId, other.Str("user_id"));
        Assert.Equal(kim.Username, other.Str("username"));
        Assert.Equal(kim.DisplayName, other.Str("display_name"));
        Assert.Equal("online", other.Str("status"));
        var lm = kimChat.GetProperty("last_message");
        Assert.Equal(last.Str("message_id"), lm.Str("message_id"));
        Assert.Equal(1, lm.Long("seq"));
        Assert.Equal(me.UserId, lm.Str("from"));
        Assert.Equal("See you tomorrow", lm.Str("content"));
        Assert.Equal(last.Long("timestamp"), lm.Long("timestamp"));
        Assert.Equal(0, kimChat.Long("unread_count")); // own messages are never unread

        var groupChat = list[1];
        Assert.Equal("Meeting at 3pm", groupChat.GetProperty("last_message").Str("content"));
        Assert.Equal(2, groupChat.Long("unread_count"));
        Assert.Equal(3, groupChat.Long("member_count"));

        var johnChat = list[2];
        Assert.Equal("John", johnChat.GetProperty("other_user").Str("display_name"));
        Assert.Equal(3, johnChat.Long("unread_count")); // john's 3, not my reply
        Assert.Equal(0, johnChat.Long("last_read_seq"));
        Assert.Equal("my reply", johnChat.GetProperty("last_message").Str("content"));

        // Reading moves last_read_seq and the unread count exactly.
        await sMe.SendFrameAsync(new { type = "read", chat_id = withJohn, seq = 2 });
        await ProtocolKit.EventuallyAsync(async () => Chats(await server.GetAsync(url, me.Token)).Single(c => c.Str("chat_id") == withJohn).Long("unread_count") == 1, "unread 1");
        Assert.Equal(2, Chats(await server.GetAsync(url, me.Token)).Single(c => c.Str("chat_id") == withJohn).Long("last_read_seq"));
        (await server.PostAsync($"/api/chats/{gid}/read", new { seq = 2 }, me.Token)).AssertStatus(HttpStatusCode.NoContent);
        Assert.Equal(0, Chats(await server.GetAsync(url, me.Token)).Single(c => c.Str("chat_id") == gid).Long("unread_count"));

        // The other participant sees the direct chat too, from their side.
        var johnList = Chats(await server.GetAsync($"/api/users/{johnId}/chats", johnToken));
        var mine = johnList.Single(c => c.Str("chat_id") == withJohn);
        Assert.Equal(me.UserId, mine.GetProperty("other_user").Str("user_id"));
        Assert.Equal(1, mine.Long("unread_count"));

        // Only your own list.
        (await server.GetAsync($"/api/users/{johnId}/chats", me.Token)).AssertError(HttpStatusCode.Forbidden, "forbidden");
        (await server.GetAsync(url, null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Chat_list_pages_with_limit_and_before()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync();
        await using var s = await server.ConnectReadyAsync(me.Token);
        var expected = new List<string>();
        for (int i = 0; i < 7; i++)
        {
            var (_, peer) = await server.NewUserAsync();
            string chat = ProtocolKit.DirectId(me.UserId, peer.UserId);
            await s.SendMessageAsync(chat, $"hi {i}", $"p{i}");
            expected.Insert(0, chat);
            await Task.Delay(3); // distinct activity times
        }
        string url = $"/api/users/{me.UserId}/chats";
        var seen = new List<string>();
        long? before = null;
        for (int page = 0; page < 10; page++)
        {
            var res = await server.GetAsync(url + "?limit=3" + (before is null ? "" : $"&before={before}"), me.Token);
            res.AssertStatus(HttpStatusCode.OK);
            var chats = Chats(res);
            seen.AddRange(chats.Select(c => c.Str("chat_id")!));
            bool more = res.Body.GetProperty("has_more").GetBoolean();
            Assert.Equal(seen.Count < 7, more);
            if (!more) break;
            Assert.Equal(3, chats.Count);
            before = chats[^1].Long("updated_at");
        }
        Assert.Equal(expected, seen);
        var all = await server.GetAsync(url, me.Token);
        Assert.Equal(7, Chats(all).Count);
        Assert.False(all.Body.GetProperty("has_more").GetBoolean());
    }
}
