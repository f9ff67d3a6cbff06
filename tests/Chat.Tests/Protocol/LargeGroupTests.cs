using System.Net;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>Runs alone (after the parallel tests): 501 password hashes and 500 sockets would starve the tests beside it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyCollection
{
    public const string Name = "Heavy protocol tests";
}

/// <summary>Issue 3: a group at the default limit of 500 members, every member connected.</summary>
[Collection(HeavyCollection.Name)]
public sealed class LargeGroupTests
{
    private static async Task<T[]> Bounded<T>(int count, int parallelism, Func<int, Task<T>> work)
    {
        using var gate = new SemaphoreSlim(parallelism);
        return await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                return await work(i);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    [Fact]
    public async Task All_500_members_get_every_message_exactly_once_in_order_and_the_501st_is_refused()
    {
        await using var server = await TestServer.StartAsync(); // default Chat:Limits:MaxGroupMembers = 500
        var users = await Bounded(501, 4, async _ => (await server.NewUserAsync("m")).Auth);
        AuthResponse owner = users[0], extra = users[500];
        var members = users.Take(500).ToArray();

        // Creating with 501 members is refused and creates nothing.
        (await server.PostAsync("/api/groups", new { name = "Too many", members = users.Skip(1).Select(u => u.UserId) }, owner.Token))
            .AssertError(HttpStatusCode.BadRequest, "group_full");
        Assert.Empty((await server.GetAsync($"/api/users/{owner.UserId}/chats", owner.Token)).Body.GetProperty("chats").EnumerateArray());

        var created = await server.PostAsync("/api/groups", new { name = "Everyone", members = members.Skip(1).Select(u => u.UserId) }, owner.Token);
        created.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(500, created.Body.GetProperty("members").GetArrayLength());
        string gid = created.Body.Str("group_id")!;

        var sockets = await Bounded(500, 16, i => server.ConnectReadyAsync(members[i].Token));
        try
        {
            // The 501st add fails and changes nothing.
            (await server.PostAsync($"/api/groups/{gid}/members", new { user_ids = new[] { extra.UserId } }, owner.Token))
                .AssertError(HttpStatusCode.BadRequest, "group_full");
            Assert.Equal(500, (await server.GetAsync($"/api/groups/{gid}", owner.Token)).Body.GetProperty("members").GetArrayLength());
            (await server.GetAsync($"/api/groups/{gid}", extra.Token)).AssertError(HttpStatusCode.NotFound, "not_found");

            // Five messages from three senders.
            int[] senders = [0, 1, 0, 250, 499];
            var acks = new List<(int Sender, long Seq, string MessageId)>();
            for (int i = 0; i < senders.Length; i++)
            {
                var ack = await sockets[senders[i]].SendMessageAsync(gid, $"message {i + 1}", $"big-{i}", timeout: TimeSpan.FromSeconds(30));
                acks.Add((senders[i], ack.Long("seq"), ack.Str("message_id")!));
            }
            Assert.Equal([1L, 2L, 3L, 4L, 5L], acks.Select(a => a.Seq));

            await Bounded(500, 32, async i =>
            {
                var expected = acks.Where(a => a.Sender != i).ToList();
                var got = new List<(long Seq, string MessageId)>();
                foreach (var _ in expected)
                {
                    var m = await sockets[i].NextAsync("new_message", TimeSpan.FromSeconds(30));
                    got.Add((m.Long("seq"), m.Str("message_id")!));
                }
                Assert.Equal(expected.Select(e => (e.Seq, e.MessageId)), got);
                (await sockets[i].FenceAsync()).AssertNone("new_message"); // exactly once
                return 0;
            });
        }
        finally
        {
            await Bounded(500, 32, async i =>
            {
                await sockets[i].DisposeAsync();
                return 0;
            });
        }
    }
}
