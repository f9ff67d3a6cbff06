using Chat.Core.Storage;

namespace Chat.Tests.Storage;

/// <summary>v1.1 privacy in every store: one-way idempotent blocks in block order, "who blocked me", switches per user.</summary>
public abstract partial class StoreContract
{
    private IPrivacyStore Privacy => _store;

    [StoreFact]
    public async Task Blocks_are_one_way_idempotent_listed_oldest_first_and_answer_who_blocked_whom()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b"), c = await NewUserAsync("c");
        await Privacy.BlockAsync(a, c, 10, None);
        await Privacy.BlockAsync(a, b, 20, None);
        await Privacy.BlockAsync(a, c, 30, None); // again: keeps the first
        await Privacy.BlockAsync(b, c, 40, None);

        Assert.Equal([c, b], await Privacy.ListBlockedAsync(a, None));
        Assert.Empty(await Privacy.ListBlockedAsync(c, None));
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), (await Privacy.GetBlockersAsync(c, [a, b, c, a], None)).Order(StringComparer.Ordinal));
        Assert.Equal([a], await Privacy.GetBlockersAsync(b, [a, c], None));
        Assert.Empty(await Privacy.GetBlockersAsync(a, [b, c], None)); // one-way
        Assert.Empty(await Privacy.GetBlockersAsync(c, [], None));

        await Privacy.UnblockAsync(a, c, None);
        await Privacy.UnblockAsync(a, c, None); // idempotent
        Assert.Equal([b], await Privacy.ListBlockedAsync(a, None));
        Assert.Equal([b], await Privacy.GetBlockersAsync(c, [a, b], None));
    }

    [StoreFact]
    public async Task Privacy_switches_are_stored_per_user_and_absent_until_changed()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        Assert.Empty(await Privacy.GetPrivacyAsync([a, b], None));
        await Privacy.SetPrivacyAsync(a, new PrivacySettings(SendReadReceipts: false, SharePresence: true), None);
        await Privacy.SetPrivacyAsync(a, new PrivacySettings(SendReadReceipts: false, SharePresence: false), None);
        var got = await Privacy.GetPrivacyAsync([a, b, a], None);
        Assert.Equal(new PrivacySettings(false, false), got[a]);
        Assert.False(got.ContainsKey(b));
        Assert.Empty(await Privacy.GetPrivacyAsync([], None));
    }
}
