using Chat.Core.Domain;
using Chat.Core.Storage;

namespace Chat.Tests.Storage;

/// <summary>
/// What every store implementation promises (src/Chat.Core/Storage/Stores.cs), checked against the real database.
/// An implementation's subclass only says how to open a store; <see cref="OpenStoreAsync"/> may be called more than
/// once per test to get a second, independent instance on the same data (another node).
/// </summary>
public abstract partial class StoreContract : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly List<IChatStore> _opened = [];
    private IChatStore _store = null!;
    private long _clock = 1_700_000_000_000;

    /// <summary>Opens a store instance on this test's database (the same database on every call within one test).</summary>
    protected abstract Task<IChatStore> OpenStoreAsync();

    /// <summary>Releases this test's database after all instances are disposed.</summary>
    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => _store = await OpenAsync();

    public async Task DisposeAsync()
    {
        foreach (var s in _opened)
        {
            if (s is IAsyncDisposable ad) await ad.DisposeAsync();
            else if (s is IDisposable d) d.Dispose();
        }
        await DropDatabaseAsync();
    }

    /// <summary>
    /// False for the embedded store: one node owns its database file, and a second instance is refused (node.lock),
    /// which the two-instance cases then assert instead of sharing the file.
    /// </summary>
    protected virtual bool InstancesShareTheDatabase => true;

    /// <summary>A second instance on this test's database, or null after asserting it is refused.</summary>
    private async Task<IChatStore?> OpenSecondAsync()
    {
        if (InstancesShareTheDatabase) return await OpenAsync();
        var refused = await Assert.ThrowsAsync<StartupCheckException>(OpenAsync);
        Assert.Contains("is in use by another running node", refused.Message, StringComparison.Ordinal);
        return null;
    }

    private async Task<IChatStore> OpenAsync()
    {
        var s = await OpenStoreAsync();
        _opened.Add(s);
        return s;
    }

    private IUserStore Users => _store;
    private IGroupStore Groups => _store;
    private IMessageStore Messages => _store;
    private IPointerStore Pointers => _store;
    private IFileStore Files => _store;

    private long Now() => _clock += 1000;

    private async Task<string> NewUserAsync(string name = "u")
    {
        string id = Ids.NewId();
        Assert.True(await Users.CreateUserAsync(new UserRecord(id, $"{name}-{id[^8..]}", name, "hash", Now()), None));
        return id;
    }

    private static NewMessage Direct(string from, string to, string cmid, long ts, string? content = null, string? fileId = null) =>
        new(Ids.NewMessageId(), ChatRef.Direct(from, to), from, "dev-" + from, cmid, content ?? "hi " + cmid, fileId, ts, to);

    private static NewMessage ToGroup(string groupId, string from, string cmid, long ts, string? device = null) =>
        new(Ids.NewMessageId(), groupId, from, device ?? "dev-" + from, cmid, "g " + cmid, null, ts, null);

    private async Task<string> NewGroupAsync(string creator, params string[] others)
    {
        string id = Ids.NewId();
        await Groups.CreateGroupAsync(new GroupRecord(id, "team", "about", creator, Now(), [creator, .. others], [creator]), None);
        return id;
    }

    private static void AssertSameMessage(StoredMessage expected, StoredMessage? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected, actual);
    }

    // ---- messages

    [StoreFact]
    public async Task Append_assigns_seq_from_1_in_input_order_and_creates_the_direct_chat()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        string chat = ChatRef.Direct(a, b);
        Assert.Equal(0, await Messages.GetLastSeqAsync(chat, None));
        Assert.Empty(await Groups.GetMembersAsync(chat, None));

        long t = Now();
        var batch = new[] { Direct(a, b, "1", t), Direct(b, a, "2", t + 1), Direct(a, b, "3", t + 2, fileId: null) };
        var results = await Messages.AppendAsync(batch, None);

        Assert.Equal([1L, 2L, 3L], results.Select(r => r.Message.Seq));
        Assert.All(results, r => Assert.False(r.Duplicate));
        Assert.Equal(batch.Select(m => m.MessageId), results.Select(r => r.Message.MessageId));
        Assert.Equal(3, await Messages.GetLastSeqAsync(chat, None));
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), (await Groups.GetMembersAsync(chat, None)).Order(StringComparer.Ordinal));

        var stored = results[1].Message;
        Assert.Equal(new StoredMessage(batch[1].MessageId, chat, 2, b, "dev-" + b, "2", "hi 2", null, t + 1), stored);
        AssertSameMessage(stored, await Messages.GetMessageAsync(stored.MessageId, None));
        AssertSameMessage(stored, await Messages.GetMessageBySeqAsync(chat, 2, None));
        Assert.Null(await Messages.GetMessageBySeqAsync(chat, 4, None));
        Assert.Null(await Messages.GetMessageAsync(Ids.NewMessageId(), None));

        // The next batch continues the chat's sequence.
        var more = await Messages.AppendAsync([Direct(b, a, "4", Now())], None);
        Assert.Equal(4, more[0].Message.Seq);
        Assert.Equal([1L, 2L, 3L, 4L], (await Messages.GetHistoryAsync(chat, new HistoryQuery(null, null, 0, 100), None)).Select(m => m.Seq));
    }

    [StoreFact]
    public async Task Append_of_a_chat_with_oneself_has_one_member()
    {
        string a = await NewUserAsync();
        var r = await Messages.AppendAsync([Direct(a, a, "self", Now())], None);
        Assert.Equal(1, r[0].Message.Seq);
        Assert.Equal([a], await Groups.GetMembersAsync(ChatRef.Direct(a, a), None));
    }

    [StoreFact]
    public async Task Append_dedups_on_sender_and_client_msg_id_returning_the_original()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b"), c = await NewUserAsync("c");
        var first = (await Messages.AppendAsync([Direct(a, b, "x", Now(), "original")], None))[0];
        Assert.False(first.Duplicate);

        var retry = Direct(a, b, "x", Now(), "changed");          // a retry: same sender, same client_msg_id
        var retryElsewhere = Direct(a, c, "x", Now(), "other");   // unique per sender across chats too
        var otherSender = Direct(b, a, "x", Now(), "b's own x");  // another sender may use the same id
        var fresh = Direct(a, b, "y", Now());
        var freshAgain = fresh with { MessageId = Ids.NewMessageId(), Content = "again in the same batch" };
        var results = await Messages.AppendAsync([retry, retryElsewhere, otherSender, fresh, freshAgain], None);

        Assert.True(results[0].Duplicate);
        Assert.Equal(first.Message, results[0].Message);
        Assert.True(results[1].Duplicate);
        Assert.Equal(first.Message, results[1].Message);
        Assert.False(results[2].Duplicate);
        Assert.Equal(2, results[2].Message.Seq);
        Assert.False(results[3].Duplicate);
        Assert.Equal(3, results[3].Message.Seq);
        Assert.True(results[4].Duplicate);
        Assert.Equal(results[3].Message, results[4].Message);

        // Duplicates took no seq and stored nothing: the chat a-b has exactly 3 messages, a-c none.
        var history = await Messages.GetHistoryAsync(first.Message.ChatId, new HistoryQuery(null, null, 0, 100), None);
        Assert.Equal([1L, 2L, 3L], history.Select(m => m.Seq));
        Assert.Equal("original", history[0].Content);
        Assert.Equal(0, await Messages.GetLastSeqAsync(ChatRef.Direct(a, c), None));
        Assert.Null(await Messages.GetMessageAsync(retry.MessageId, None));

        // The dedup key finds the stored original, for that sender only.
        Assert.Equal(first.Message, await Messages.FindSentAsync(a, "x", None));
        Assert.Equal("b's own x", (await Messages.FindSentAsync(b, "x", None))!.Content);
        Assert.Null(await Messages.FindSentAsync(c, "x", None));
        Assert.Null(await Messages.FindSentAsync(a, "never-sent", None));
    }

    [StoreFact]
    public async Task Append_fails_whole_when_one_message_cannot_be_stored()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        var ok = Direct(a, b, "1", Now());
        var toMissingGroup = ToGroup(Ids.NewId(), a, "2", Now());
        await Assert.ThrowsAnyAsync<Exception>(() => Messages.AppendAsync([ok, toMissingGroup], None));

        string chat = ChatRef.Direct(a, b);
        Assert.Equal(0, await Messages.GetLastSeqAsync(chat, None));
        Assert.Null(await Messages.GetMessageAsync(ok.MessageId, None));

        // Nothing of the failed batch sticks, including its dedup keys and the direct chat it would have created.
        var again = await Messages.AppendAsync([ok], None);
        Assert.False(again[0].Duplicate);
        Assert.Equal(1, again[0].Message.Seq);
        Assert.Equal(2, (await Groups.GetMembersAsync(chat, None)).Count);
    }

    [StoreFact]
    public async Task Concurrent_appends_from_two_instances_to_one_chat_have_no_duplicate_or_gap()
    {
        if (await OpenSecondAsync() is not { } second) return;
        var stores = new IMessageStore[] { _store, second };
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        string group = await NewGroupAsync(a, b);
        string direct = ChatRef.Direct(a, b);
        const int Workers = 4, Batches = 15, PerBatch = 4;

        // Each worker stands for one node's committer: batches that mix the group, the direct chat and a
        // (sender, client_msg_id) that every worker also tries to store.
        var tasks = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            var store = stores[w % 2];
            var acked = new List<AppendResult>();
            for (int i = 0; i < Batches; i++)
            {
                var batch = new List<NewMessage>();
                for (int j = 0; j < PerBatch; j++)
                    batch.Add(j % 2 == 0 ? ToGroup(group, w % 2 == 0 ? a : b, $"w{w}-{i}-{j}", 1000 + i) : Direct(w % 2 == 0 ? a : b, w % 2 == 0 ? b : a, $"w{w}-{i}-{j}", 1000 + i));
                batch.Add(Direct(a, b, $"race-{i}", 1000 + i));
                acked.AddRange(await store.AppendAsync(batch, None));
            }
            return acked;
        })).ToArray();
        var all = (await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(120))).SelectMany(x => x).ToList();

        foreach (string chat in new[] { group, direct })
        {
            var history = await Messages.GetHistoryAsync(chat, new HistoryQuery(null, null, 0, 1000), None);
            Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(m => m.Seq));
            Assert.Equal(history.Count, history.Select(m => m.MessageId).Distinct().Count());
            Assert.Equal(history.Count, await Messages.GetLastSeqAsync(chat, None));
            // Every acknowledged result is exactly what history holds at that seq.
            var bySeq = history.ToDictionary(m => m.Seq);
            foreach (var r in all.Where(r => r.Message.ChatId == chat)) Assert.Equal(bySeq[r.Message.Seq], r.Message);
        }
        Assert.Equal(Workers * Batches * PerBatch / 2, (await Messages.GetHistoryAsync(group, new HistoryQuery(null, null, 0, 1000), None)).Count);
        // The raced ids were stored once each, and every racer got that one message back.
        for (int i = 0; i < Batches; i++)
        {
            var raced = all.Where(r => r.Message.ClientMsgId == $"race-{i}" && r.Message.SenderId == a).ToList();
            Assert.Equal(Workers, raced.Count);
            Assert.Single(raced.Select(r => r.Message.MessageId).Distinct());
            Assert.Equal(1, raced.Count(r => !r.Duplicate));
        }
    }

    // ---- history

    [StoreFact]
    public async Task History_pages_backwards_by_seq_and_timestamp_and_forwards_after_seq()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        const long T0 = 5_000_000;
        var results = await Messages.AppendAsync(Enumerable.Range(1, 25).Select(i => Direct(a, b, $"m{i}", T0 + i)).ToList(), None);
        string chat = results[0].Message.ChatId;

        async Task<long[]> Seqs(HistoryQuery q) => (await Messages.GetHistoryAsync(chat, q, None)).Select(m => m.Seq).ToArray();
        Assert.Equal(Enumerable.Range(16, 10).Reverse().Select(i => (long)i), await Seqs(new HistoryQuery(null, null, null, 10)));
        Assert.Equal(Enumerable.Range(6, 10).Reverse().Select(i => (long)i), await Seqs(new HistoryQuery(null, 16, null, 10)));
        Assert.Equal(new long[] { 2, 1 }, await Seqs(new HistoryQuery(null, 3, null, 10)));
        Assert.Equal(new long[] { 4, 3, 2, 1 }, await Seqs(new HistoryQuery(T0 + 5, null, null, 10)));
        Assert.Equal(new long[] { 3, 2 }, await Seqs(new HistoryQuery(T0 + 5, 4, null, 2)));
        Assert.Equal(new long[] { 21, 22, 23, 24, 25 }, await Seqs(new HistoryQuery(null, null, 20, 10)));
        Assert.Equal(new long[] { 1, 2, 3 }, await Seqs(new HistoryQuery(null, null, 0, 3)));
        Assert.Empty(await Seqs(new HistoryQuery(null, null, 25, 10)));
        Assert.Empty(await Messages.GetHistoryAsync(ChatRef.Direct(a, a), new HistoryQuery(null, null, null, 10), None));
    }

    [StoreFact]
    public async Task Senders_are_distinct_within_the_range_and_exclude_the_reader()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b"), c = await NewUserAsync("c");
        string g = await NewGroupAsync(a, b, c);
        await Messages.AppendAsync([ToGroup(g, a, "1", Now()), ToGroup(g, b, "2", Now()), ToGroup(g, b, "3", Now()), ToGroup(g, c, "4", Now())], None);
        Assert.Equal([b], await Messages.GetSendersAsync(g, 1, 3, a, None));
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), (await Messages.GetSendersAsync(g, 0, 3, c, None)).Order(StringComparer.Ordinal));
        Assert.Empty(await Messages.GetSendersAsync(g, 1, 3, b, None));
    }

    // ---- catch-up

    [StoreFact]
    public async Task Undelivered_pages_by_chat_then_seq_above_pointer_join_point_and_device_creation()
    {
        string u = await NewUserAsync("u"), p = await NewUserAsync("p");
        string group = await NewGroupAsync(p);
        string direct = ChatRef.Direct(u, p);
        long deviceCreated = 10_000;

        // Direct: seq 1 is older than the device; the device has delivered up to 2; seq 5 is the device's own message.
        await Messages.AppendAsync([Direct(p, u, "d1", deviceCreated - 1), Direct(p, u, "d2", deviceCreated), Direct(p, u, "d3", deviceCreated + 1), Direct(p, u, "d4", deviceCreated + 2)], None);
        await Messages.AppendAsync([Direct(u, p, "d5", deviceCreated + 3) with { SenderDeviceId = "dev-u" }], None);
        await Pointers.SaveDeliveredAsync([new DevicePointer("dev-u", u, direct, 2), new DevicePointer("other-device", u, direct, 5)], None);

        // Group: u joins after seq 3, so only 4 and 5 are owed.
        await Messages.AppendAsync([ToGroup(group, p, "g1", deviceCreated + 1), ToGroup(group, p, "g2", deviceCreated + 1), ToGroup(group, p, "g3", deviceCreated + 1)], None);
        Assert.Equal([u], await Groups.AddMembersAsync(group, [u], 100, Now(), None));
        await Messages.AppendAsync([ToGroup(group, p, "g4", deviceCreated + 2), ToGroup(group, p, "g5", deviceCreated + 2)], None);

        var expected = new[] { (direct, 3L), (direct, 4L), (direct, 5L), (group, 4L), (group, 5L) }
            .OrderBy(x => x.Item1, StringComparer.Ordinal).ThenBy(x => x.Item2).ToList();

        // Keyset paging, two at a time, as the delivery service does.
        var got = new List<StoredMessage>();
        string afterChat = "";
        long afterSeq = 0;
        while (true)
        {
            var page = await Messages.GetUndeliveredAsync(u, "dev-u", deviceCreated, null, afterChat, afterSeq, 2, None);
            got.AddRange(page);
            if (page.Count < 2) break;
            (afterChat, afterSeq) = (page[^1].ChatId, page[^1].Seq);
            Assert.True(got.Count <= 10, "paging does not advance");
        }
        Assert.Equal(expected, got.Select(m => (m.ChatId, m.Seq)));
        Assert.Equal("dev-u", got.Single(m => m.ChatId == direct && m.Seq == 5).SenderDeviceId);

        // One chat only, from a cursor inside it.
        Assert.Equal([4L, 5L], (await Messages.GetUndeliveredAsync(u, "dev-u", deviceCreated, group, group, 0, 10, None)).Select(m => m.Seq));
        Assert.Equal([5L], (await Messages.GetUndeliveredAsync(u, "dev-u", deviceCreated, group, group, 4, 10, None)).Select(m => m.Seq));
        // A device that has delivered everything is owed nothing; a brand-new device is owed nothing older than itself.
        await Pointers.SaveDeliveredAsync([new DevicePointer("dev-u", u, direct, 5), new DevicePointer("dev-u", u, group, 5)], None);
        Assert.Empty(await Messages.GetUndeliveredAsync(u, "dev-u", deviceCreated, null, "", 0, 10, None));
        Assert.Empty(await Messages.GetUndeliveredAsync(u, "new-device", deviceCreated + 100, null, "", 0, 10, None));
        // A non-member is owed nothing of the group.
        Assert.DoesNotContain(await Messages.GetUndeliveredAsync(await NewUserAsync(), "x", 0, null, "", 0, 10, None), m => m.ChatId == group);
    }

    [StoreFact]
    public async Task Chat_heads_list_each_chat_of_the_user_with_its_last_seq()
    {
        string u = await NewUserAsync("u"), p = await NewUserAsync("p");
        string group = await NewGroupAsync(u, p);
        await Messages.AppendAsync([Direct(p, u, "1", Now()), Direct(p, u, "2", Now()), ToGroup(group, p, "3", Now())], None);
        var heads = (await Messages.GetChatHeadsAsync(u, None)).OrderBy(h => h.ChatId, StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { new ChatHead(ChatRef.Direct(u, p), 2), new ChatHead(group, 1) }.OrderBy(h => h.ChatId, StringComparer.Ordinal), heads);
    }

    // ---- pointers

    [StoreFact]
    public async Task Delivered_pointers_only_rise_and_the_user_value_is_the_best_device()
    {
        string u = await NewUserAsync("u"), p = await NewUserAsync("p");
        string chat = ChatRef.Direct(u, p);
        await Messages.AppendAsync(Enumerable.Range(1, 9).Select(i => Direct(p, u, $"m{i}", Now())).ToList(), None);
        Assert.Equal(0, await Pointers.GetUserDeliveredAsync(u, chat, None));

        await Pointers.SaveDeliveredAsync([new DevicePointer("d1", u, chat, 5)], None);
        await Pointers.SaveDeliveredAsync([new DevicePointer("d1", u, chat, 3)], None);
        Assert.Equal(5, await Pointers.GetUserDeliveredAsync(u, chat, None));
        await Pointers.SaveDeliveredAsync([new DevicePointer("d1", u, chat, 6), new DevicePointer("d1", u, chat, 8), new DevicePointer("d1", u, chat, 7), new DevicePointer("d2", u, chat, 2)], None);
        Assert.Equal(8, await Pointers.GetUserDeliveredAsync(u, chat, None));
        // d1's pointer (8) is what its catch-up starts from; d2 is still owed 3..9.
        Assert.Equal([9L], (await Messages.GetUndeliveredAsync(u, "d1", 0, chat, chat, 0, 10, None)).Select(m => m.Seq));
        Assert.Equal(7, (await Messages.GetUndeliveredAsync(u, "d2", 0, chat, chat, 0, 10, None)).Count);

        var pointers = (await Pointers.GetPointersAsync(chat, None)).OrderBy(x => x.UserId, StringComparer.Ordinal);
        Assert.Equal(new[] { new MemberPointers(u, 8, 0), new MemberPointers(p, 0, 0) }.OrderBy(x => x.UserId, StringComparer.Ordinal), pointers);
    }

    [StoreFact]
    public async Task Read_pointer_rises_and_returns_the_previous_value()
    {
        string u = await NewUserAsync("u"), p = await NewUserAsync("p");
        string chat = ChatRef.Direct(u, p);
        await Messages.AppendAsync(Enumerable.Range(1, 6).Select(i => Direct(p, u, $"m{i}", Now())).ToList(), None);

        Assert.Equal(0, await Pointers.AdvanceReadAsync(u, chat, 3, None));
        Assert.Equal(3, await Pointers.AdvanceReadAsync(u, chat, 2, None));
        Assert.Equal(3, await Pointers.AdvanceReadAsync(u, chat, 3, None));
        Assert.Equal(3, await Pointers.AdvanceReadAsync(u, chat, 5, None));
        Assert.Contains(new MemberPointers(u, 0, 5), await Pointers.GetPointersAsync(chat, None));
        // Not a member: nothing moves, and the answer says so.
        Assert.Equal(long.MaxValue, await Pointers.AdvanceReadAsync(await NewUserAsync(), chat, 5, None));
    }

    // ---- chat list

    [StoreFact]
    public async Task Chat_list_orders_by_activity_with_unread_counts_and_last_message()
    {
        string u = await NewUserAsync("u"), p = await NewUserAsync("p"), q = await NewUserAsync("q");
        string quiet = await NewGroupAsync(u, p, q);                 // no messages: listed (groups always are)
        string busy = await NewGroupAsync(p, u);
        var d = await Messages.AppendAsync([Direct(p, u, "1", Now()), Direct(u, p, "2", Now()), Direct(p, u, "3", Now())], None);
        var g = await Messages.AppendAsync([ToGroup(busy, p, "4", Now()), ToGroup(busy, u, "5", Now())], None);
        await Messages.AppendAsync([Direct(p, q, "other", Now())], None); // not u's chat
        await Pointers.AdvanceReadAsync(u, d[0].Message.ChatId, 1, None);

        var list = await Groups.ListChatsAsync(u, 10, null, None);
        Assert.Equal([busy, d[0].Message.ChatId, quiet], list.Select(c => c.ChatId));

        var busyRow = list[0];
        Assert.True(busyRow.IsGroup);
        Assert.Equal("team", busyRow.GroupName);
        Assert.Equal(2, busyRow.MemberCount);
        Assert.Equal(g[1].Message, busyRow.LastMessage);
        Assert.Equal(1, busyRow.UnreadCount);    // u's own message does not count
        Assert.Equal(g[1].Message.Timestamp, busyRow.UpdatedAt);

        var directRow = list[1];
        Assert.False(directRow.IsGroup);
        Assert.Equal(2, directRow.MemberCount);
        Assert.Equal(d[2].Message, directRow.LastMessage);
        Assert.Equal(1, directRow.LastReadSeq);
        Assert.Equal(1, directRow.UnreadCount);  // seq 3 (seq 2 is u's own)

        var quietRow = list[2];
        Assert.Null(quietRow.LastMessage);
        Assert.Equal(3, quietRow.MemberCount);
        Assert.Equal(0, quietRow.UnreadCount);

        // Paging: the first page, then everything older than its last row.
        var page1 = await Groups.ListChatsAsync(u, 2, null, None);
        Assert.Equal([busy, d[0].Message.ChatId], page1.Select(c => c.ChatId));
        Assert.Equal([quiet], (await Groups.ListChatsAsync(u, 2, page1[^1].UpdatedAt, None)).Select(c => c.ChatId));
    }

    // ---- groups

    [StoreFact]
    public async Task When_the_last_admin_leaves_the_longest_standing_member_becomes_admin()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b"), c = await NewUserAsync("c");
        string g = await NewGroupAsync(a, b);
        Assert.Equal([c], await Groups.AddMembersAsync(g, [c], 10, Now() + 1000, None)); // joined after b

        Assert.True(await Groups.RemoveMemberAsync(g, a, None));
        Assert.Equal([b], (await Groups.GetGroupAsync(g, None))!.Admins);

        // Another admin remains: nobody is promoted.
        await Groups.AddMembersAsync(g, [a], 10, Now() + 2000, None);
        Assert.True(await Groups.RemoveMemberAsync(g, c, None));
        Assert.Equal([b], (await Groups.GetGroupAsync(g, None))!.Admins);

        // The last member leaving leaves an empty group, not an error.
        Assert.True(await Groups.RemoveMemberAsync(g, b, None));
        Assert.Equal([a], (await Groups.GetGroupAsync(g, None))!.Admins);
        Assert.True(await Groups.RemoveMemberAsync(g, a, None));
        Assert.Empty(await Groups.GetMembersAsync(g, None));
    }

    [StoreFact]
    public async Task Groups_keep_members_admins_and_the_member_limit()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b"), c = await NewUserAsync("c"), d = await NewUserAsync("d");
        string g = await NewGroupAsync(a, b);
        var group = await Groups.GetGroupAsync(g, None);
        Assert.NotNull(group);
        Assert.Equal(("team", "about", a), (group.Name, group.Description, group.CreatedBy));
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), group.Members.Order(StringComparer.Ordinal));
        Assert.Equal([a], group.Admins);

        await Groups.UpdateGroupAsync(g, "renamed", null, None);
        Assert.Equal(("renamed", "about"), ((await Groups.GetGroupAsync(g, None))!.Name, (await Groups.GetGroupAsync(g, None))!.Description));

        // Over the limit: nothing changes. Existing members are not added twice.
        Assert.Null(await Groups.AddMembersAsync(g, [c, d], 3, Now(), None));
        Assert.Equal(2, (await Groups.GetMembersAsync(g, None)).Count);
        Assert.Equal([c], await Groups.AddMembersAsync(g, [b, c, c], 3, Now(), None));
        Assert.Empty((await Groups.AddMembersAsync(g, [a], 3, Now(), None))!);
        var members = await Groups.GetMembersAsync(g, None);
        Assert.Equal(3, members.Count);
        Assert.Equal(c, members[^1]); // joined last

        // Removal also forgets the member's delivery pointers in that chat.
        await Pointers.SaveDeliveredAsync([new DevicePointer("dev-c", c, g, 1)], None);
        Assert.True(await Groups.RemoveMemberAsync(g, c, None));
        Assert.False(await Groups.RemoveMemberAsync(g, c, None));
        Assert.Equal(0, await Pointers.GetUserDeliveredAsync(c, g, None));
        Assert.DoesNotContain(c, await Groups.GetMembersAsync(g, None));

        Assert.Null(await Groups.GetGroupAsync(Ids.NewId(), None));
        await Messages.AppendAsync([Direct(a, b, "1", Now())], None);
        Assert.Null(await Groups.GetGroupAsync(ChatRef.Direct(a, b), None));
        Assert.Empty(await Groups.GetMembersAsync(Ids.NewId(), None));
    }

    [StoreFact]
    public async Task A_member_added_later_joins_at_the_current_seq()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        string g = await NewGroupAsync(a);
        await Messages.AppendAsync([ToGroup(g, a, "1", Now()), ToGroup(g, a, "2", Now())], None);
        await Groups.AddMembersAsync(g, [b], 10, Now(), None);
        await Messages.AppendAsync([ToGroup(g, a, "3", Now())], None);
        Assert.Equal([3L], (await Messages.GetUndeliveredAsync(b, "dev-b", 0, null, "", 0, 10, None)).Select(m => m.Seq));
    }

    [StoreFact]
    public async Task Admin_changes_keep_one_admin_and_group_events_sit_after_the_last_seq()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b"), s = await NewUserAsync("s");
        string g = await NewGroupAsync(a, b);
        Assert.Equal(AdminChange.LastAdmin, await Groups.SetAdminAsync(g, a, admin: false, None));
        Assert.Equal(AdminChange.NotMember, await Groups.SetAdminAsync(g, s, admin: true, None));
        Assert.Equal(AdminChange.Unchanged, await Groups.SetAdminAsync(g, a, admin: true, None));
        Assert.Equal(AdminChange.Changed, await Groups.SetAdminAsync(g, b, admin: true, None));
        Assert.Equal(AdminChange.Changed, await Groups.SetAdminAsync(g, a, admin: false, None));
        Assert.Equal([b], (await Groups.GetGroupAsync(g, None))!.Admins);

        var first = await Groups.AppendGroupEventAsync(new GroupEventRecord(Ids.NewId(), g, "created", [a, b], a, "team", Now(), 99), None);
        Assert.Equal(0, first.AfterSeq);
        await Messages.AppendAsync([ToGroup(g, a, "1", Now()), ToGroup(g, a, "2", Now())], None);
        var second = await Groups.AppendGroupEventAsync(new GroupEventRecord(Ids.NewId(), g, "member_added", [s], a, null, Now(), 0), None);
        var third = await Groups.AppendGroupEventAsync(new GroupEventRecord(Ids.NewId(), g, "updated", [], b, "renamed", Now(), 0), None);
        Assert.Equal(2, second.AfterSeq);
        Assert.Equal(2L, await Messages.GetLastSeqAsync(g, None)); // events take no seq

        // Records hold lists (compared by reference): compare the event ids, in order.
        async Task<string[]> IdsOf(int limit, long? after, long? before) =>
            (await Groups.GetGroupEventsAsync(g, limit, after, before, None)).Select(e => e.EventId).ToArray();
        Assert.Equal([second.EventId, third.EventId], await IdsOf(10, 0, null)); // after_seq > 0: not the creation
        Assert.Equal([third.EventId, second.EventId], await IdsOf(2, null, null));
        Assert.Equal([first.EventId], await IdsOf(10, null, 2));
        Assert.Equal(["team", null, "renamed"], (await Groups.GetGroupEventsAsync(g, 10, null, null, None)).Reverse().Select(e => e.Name));
        Assert.Equal([s], (await Groups.GetGroupEventsAsync(g, 10, 1, null, None))[0].UserIds);
        Assert.Empty(await Groups.GetGroupEventsAsync(Ids.NewId(), 10, null, null, None));
    }

    [StoreFact]
    public async Task Pointers_carry_the_join_seq()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        string g = await NewGroupAsync(a);
        await Messages.AppendAsync([ToGroup(g, a, "1", Now()), ToGroup(g, a, "2", Now())], None);
        await Groups.AddMembersAsync(g, [b], 10, Now(), None);
        var pointers = await Pointers.GetPointersAsync(g, None);
        Assert.Equal(0, pointers.Single(p => p.UserId == a).JoinedSeq);
        Assert.Equal(2, pointers.Single(p => p.UserId == b).JoinedSeq);
    }

    // ---- files

    [StoreFact]
    public async Task Files_attach_on_send_and_only_unattached_old_ones_are_deleted()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b"), stranger = await NewUserAsync("s");
        var f = new FileRecord(Ids.NewId(), a, "cat.png", "image/png", 1234, 1000, false, false, null);
        var unattachedOld = f with { FileId = Ids.NewId(), CreatedAt = 1000 };
        var unattachedNew = f with { FileId = Ids.NewId(), CreatedAt = 9000 };
        foreach (var x in new[] { f, unattachedOld, unattachedNew }) await Files.CreateFileAsync(x, None);

        Assert.Equal(f, await Files.GetFileAsync(f.FileId, None));
        await Files.MarkCompleteAsync(f.FileId, hasThumbnail: true, None);
        Assert.Equal(f with { Complete = true, HasThumbnail = true }, await Files.GetFileAsync(f.FileId, None));
        Assert.False(await Files.CanReadFileAsync(f.FileId, a, None));

        var sent = await Messages.AppendAsync([Direct(a, b, "pic", 4000, fileId: f.FileId)], None);
        Assert.Equal(f.FileId, sent[0].Message.FileId);
        Assert.Equal(f.FileId, (await Messages.GetMessageAsync(sent[0].Message.MessageId, None))!.FileId);
        Assert.Equal(4000, (await Files.GetFileAsync(f.FileId, None))!.AttachedAt);
        Assert.True(await Files.CanReadFileAsync(f.FileId, a, None));
        Assert.True(await Files.CanReadFileAsync(f.FileId, b, None));
        Assert.False(await Files.CanReadFileAsync(f.FileId, stranger, None));

        var deleted = await Files.DeleteUnattachedAsync(5000, None);
        Assert.Equal([unattachedOld.FileId], deleted.Select(x => x.FileId));
        Assert.Null(await Files.GetFileAsync(unattachedOld.FileId, None));
        Assert.NotNull(await Files.GetFileAsync(unattachedNew.FileId, None));
        Assert.NotNull(await Files.GetFileAsync(f.FileId, None));
        Assert.Null(await Files.GetFileAsync(Ids.NewId(), None));
    }

    [StoreFact]
    public async Task File_usage_sums_completed_files_and_live_pending_uploads_per_owner()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        Assert.Equal(new FileUsage(0, 0, 0, null), await Files.GetFileUsageAsync(a, 0, None));
        var done = new FileRecord(Ids.NewId(), a, "a.bin", "application/octet-stream", 1000, 100, false, false, null);
        var stale = done with { FileId = Ids.NewId(), Size = 7, CreatedAt = 200 };   // its link expired: not counted
        var pending1 = done with { FileId = Ids.NewId(), Size = 20, CreatedAt = 500 };
        var pending2 = done with { FileId = Ids.NewId(), Size = 300, CreatedAt = 600 };
        var others = done with { FileId = Ids.NewId(), OwnerId = b, Size = 50_000, CreatedAt = 700 };
        foreach (var x in new[] { done, stale, pending1, pending2, others }) await Files.CreateFileAsync(x, None);
        await Files.MarkCompleteAsync(done.FileId, hasThumbnail: false, None); // completed long ago: counted whatever its age

        Assert.Equal(new FileUsage(1000, 320, 2, 500), await Files.GetFileUsageAsync(a, 400, None));
        Assert.Equal(new FileUsage(1000, 327, 3, 200), await Files.GetFileUsageAsync(a, 0, None));
        Assert.Equal(new FileUsage(0, 50_000, 1, 700), await Files.GetFileUsageAsync(b, 400, None));

        // Completing moves bytes from pending to stored; cleanup takes them away.
        await Files.MarkCompleteAsync(pending2.FileId, hasThumbnail: false, None);
        Assert.Equal(new FileUsage(1300, 20, 1, 500), await Files.GetFileUsageAsync(a, 400, None));
        await Files.DeleteUnattachedAsync(long.MaxValue, None);
        Assert.Equal(new FileUsage(0, 0, 0, null), await Files.GetFileUsageAsync(a, 0, None));
    }

    // ---- users and devices

    [StoreFact]
    public async Task Users_are_unique_by_id_and_username()
    {
        var u = new UserRecord(Ids.NewId(), "alice-" + Ids.NewId()[..6], "Alice", "hash", 123);
        Assert.True(await Users.CreateUserAsync(u, None));
        Assert.False(await Users.CreateUserAsync(u with { UserId = Ids.NewId() }, None));
        Assert.False(await Users.CreateUserAsync(u with { Username = u.Username + "x" }, None));
        Assert.Equal(u, await Users.GetUserAsync(u.UserId, None));
        Assert.Equal(u, await Users.FindByUsernameAsync(u.Username, None));
        Assert.Null(await Users.FindByUsernameAsync(u.Username + "x", None));
        Assert.Null(await Users.GetUserAsync(Ids.NewId(), None));

        string other = await NewUserAsync();
        var many = await Users.GetUsersAsync([u.UserId, other, u.UserId, Ids.NewId()], None);
        Assert.Equal(new[] { u.UserId, other }.Order(StringComparer.Ordinal), many.Select(x => x.UserId).Order(StringComparer.Ordinal));
        Assert.Empty(await Users.GetUsersAsync([], None));
    }

    [StoreFact]
    public async Task Display_name_password_hash_and_device_name_updates_touch_only_their_row()
    {
        var u = new UserRecord(Ids.NewId(), "upd-" + Ids.NewId()[..6], "Before", "old-hash", 1);
        Assert.True(await Users.CreateUserAsync(u, None));
        string v = await NewUserAsync();
        var vBefore = await Users.GetUserAsync(v, None);

        Assert.True(await Users.UpdateDisplayNameAsync(u.UserId, "After", None));
        Assert.True(await Users.UpdatePasswordHashAsync(u.UserId, "new-hash", None));
        Assert.Equal(u with { DisplayName = "After", PasswordHash = "new-hash" }, await Users.GetUserAsync(u.UserId, None));
        Assert.Equal(vBefore, await Users.GetUserAsync(v, None));
        Assert.False(await Users.UpdateDisplayNameAsync(Ids.NewId(), "x", None));
        Assert.False(await Users.UpdatePasswordHashAsync(Ids.NewId(), "x", None));

        var d = new DeviceRecord(Ids.NewId(), u.UserId, "phone", "hash-" + Ids.NewId(), 10, 10);
        await Users.CreateDeviceAsync(d, None);
        Assert.False(await Users.RenameDeviceAsync(v, d.DeviceId, "stolen", None)); // not v's device
        Assert.True(await Users.RenameDeviceAsync(u.UserId, d.DeviceId, "work phone", None));
        Assert.Equal(d with { DeviceName = "work phone" }, await Users.FindDeviceByTokenHashAsync(d.TokenHash, None));
        Assert.True(await Users.RevokeDeviceAsync(u.UserId, d.DeviceId, None));
        Assert.False(await Users.RenameDeviceAsync(u.UserId, d.DeviceId, "gone", None)); // revoked
    }

    [StoreFact]
    public async Task Devices_are_found_by_token_until_revoked_and_touch_only_rises()
    {
        string u = await NewUserAsync(), v = await NewUserAsync();
        var d1 = new DeviceRecord(Ids.NewId(), u, "phone", "hash-" + Ids.NewId(), 100, 100);
        var d2 = new DeviceRecord(Ids.NewId(), u, "laptop", "hash-" + Ids.NewId(), 200, 200);
        await Users.CreateDeviceAsync(d2, None);
        await Users.CreateDeviceAsync(d1, None);

        Assert.Equal(d1, await Users.FindDeviceByTokenHashAsync(d1.TokenHash, None));
        Assert.Null(await Users.FindDeviceByTokenHashAsync("nope", None));
        Assert.Equal([d1.DeviceId, d2.DeviceId], (await Users.ListDevicesAsync(u, None)).Select(d => d.DeviceId));

        await Users.TouchDevicesAsync([(d1.DeviceId, 500), (d1.DeviceId, 400), (d2.DeviceId, 150)], None);
        Assert.Equal(500, (await Users.FindDeviceByTokenHashAsync(d1.TokenHash, None))!.LastActive);
        Assert.Equal(200, (await Users.FindDeviceByTokenHashAsync(d2.TokenHash, None))!.LastActive);

        Assert.False(await Users.RevokeDeviceAsync(v, d1.DeviceId, None)); // not v's device
        Assert.True(await Users.RevokeDeviceAsync(u, d1.DeviceId, None));
        Assert.False(await Users.RevokeDeviceAsync(u, d1.DeviceId, None));
        Assert.Null(await Users.FindDeviceByTokenHashAsync(d1.TokenHash, None));
        Assert.Equal([d2.DeviceId], (await Users.ListDevicesAsync(u, None)).Select(d => d.DeviceId));
        Assert.True(await _store.PingAsync(None));
    }
}
