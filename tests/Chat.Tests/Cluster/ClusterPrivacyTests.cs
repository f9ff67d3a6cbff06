using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Tests.Protocol;

namespace Chat.Tests.Cluster;

/// <summary>
/// v1.1 blocking and privacy switches across nodes: a block made on one node refuses sends and hides presence and
/// typing on the others at once; a share_presence switch reaches subscribers on every node.
/// </summary>
public sealed class ClusterPrivacyTests(ThreeNodeCluster fixture) : IClassFixture<ThreeNodeCluster>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private TestCluster C => fixture.Cluster;

    private static Task<JsonElement> NextPresence(ChatSocket s, string userId) =>
        s.NextAsync(f => f.Type() == "presence_update" && f.Str("user_id") == userId, Wait);

    [ClusterFact]
    public async Task A_block_made_on_one_node_applies_on_every_node()
    {
        var (_, blocker) = await C.NewUserAsync(0, "cbk");
        var (_, blocked) = await C.NewUserAsync(1, "cbd");
        var (_, friend) = await C.NewUserAsync(2, "cbf");
        string direct = ProtocolKit.DirectId(blocker.UserId, blocked.UserId);
        string gid = (await C[0].PostAsync("/api/groups", new { name = "CG", members = new[] { blocked.UserId, friend.UserId } }, blocker.Token)).Body.Str("group_id")!;
        await using var sd = await C.ConnectReadyAsync(2, blocked.Token);
        await using var sf = await C.ConnectReadyAsync(1, friend.Token);
        foreach (var s in new[] { sd, sf })
        {
            await s.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { blocker.UserId } });
            await NextPresence(s, blocker.UserId);
        }
        await using var sk = await C.ConnectReadyAsync(0, blocker.Token);
        await NextPresence(sd, blocker.UserId);
        await NextPresence(sf, blocker.UserId);

        (await C[0].PostAsync("/api/users/me/blocks", new { user_id = blocked.UserId }, blocker.Token)).AssertStatus(HttpStatusCode.NoContent);
        var hidden = await NextPresence(sd, blocker.UserId);
        Assert.Equal("offline", hidden.Str("status"));
        Assert.Equal(JsonValueKind.Null, hidden.GetProperty("last_seen").ValueKind);
        Assert.Equal("offline", (await C[1].GetAsync($"/api/users/{blocker.UserId}", blocked.Token)).Body.Str("status"));

        // The blocked user's send on another node is refused at once.
        await sd.SendMessageFrameAsync(direct, "refused", "c-refused");
        await sd.ExpectErrorAsync("forbidden", "c-refused");

        // Presence and typing from node 0 reach the friend on node 1, not the blocked user on node 2.
        await sk.SendFrameAsync(new { type = "set_status", status = "away" });
        Assert.Equal("away", (await NextPresence(sf, blocker.UserId)).Str("status"));
        await sk.SendFrameAsync(new { type = "typing_start", chat_id = gid });
        await sf.NextAsync("typing_start", Wait);
        // A message through the group after those frames is a fence across nodes: anything relayed before it arrived first.
        await sk.SendMessageAsync(gid, "fence");
        await sd.NextAsync(f => f.Type() == "new_message" && f.Str("content") == "fence", Wait);
        var seen = sd.Drain();
        seen.AssertNone("typing_start");
        Assert.DoesNotContain(seen, f => f.Type() == "presence_update" && f.Str("user_id") == blocker.UserId);

        (await C[2].CallAsync(HttpMethod.Delete, $"/api/users/me/blocks/{blocked.UserId}", null, blocker.Token)).AssertStatus(HttpStatusCode.NoContent);
        Assert.Equal("away", (await NextPresence(sd, blocker.UserId)).Str("status"));
        await sd.SendMessageAsync(direct, "allowed again");
    }

    [ClusterFact]
    public async Task Share_presence_switched_on_one_node_reaches_subscribers_on_the_others()
    {
        var (_, shy) = await C.NewUserAsync(0, "csh");
        var (_, watcher) = await C.NewUserAsync(2, "cwt");
        await using var sw = await C.ConnectReadyAsync(2, watcher.Token);
        await sw.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { shy.UserId } });
        await NextPresence(sw, shy.UserId);
        await using var ss = await C.ConnectReadyAsync(0, shy.Token);
        Assert.Equal("online", (await NextPresence(sw, shy.UserId)).Str("status"));

        (await C[1].CallAsync(HttpMethod.Patch, "/api/users/me", new { settings = new { share_presence = false } }, shy.Token)).AssertStatus(HttpStatusCode.OK);
        var hidden = await NextPresence(sw, shy.UserId);
        Assert.Equal("offline", hidden.Str("status"));
        Assert.Equal(JsonValueKind.Null, hidden.GetProperty("last_seen").ValueKind);
        Assert.Equal("offline", (await C[2].GetAsync($"/api/presence?user_ids={shy.UserId}", watcher.Token)).Body.GetProperty("presence")[0].Str("status"));

        (await C[2].CallAsync(HttpMethod.Patch, "/api/users/me", new { settings = new { share_presence = true } }, shy.Token)).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("online", (await NextPresence(sw, shy.UserId)).Str("status"));
    }
}
