using Chat.Core.Storage;

namespace Chat.Core.People;

/// <summary>
/// What the v1.1 privacy rules hide from whom, asked of the store on every use so every node agrees at once:
/// a user with <c>share_presence=false</c> and a user who blocked the viewer are shown offline with no last seen;
/// a user with <c>send_read_receipts=false</c> never counts as having read anything for others.
/// </summary>
public sealed class PrivacyRules(IPrivacyStore store)
{
    public async Task<PrivacySettings> SettingsOfAsync(string userId, CancellationToken ct) =>
        (await store.GetPrivacyAsync([userId], ct)).GetValueOrDefault(userId) ?? PrivacySettings.Default;

    /// <summary>Those of <paramref name="userIds"/> whose presence <paramref name="viewerId"/> must not see.</summary>
    public async Task<HashSet<string>> PresenceHiddenAsync(string viewerId, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        var others = userIds.Where(id => id != viewerId).ToList();
        var hidden = await SwitchedOffAsync(others, s => s.SharePresence, ct);
        if (others.Count > 0) hidden.UnionWith(await store.GetBlockersAsync(viewerId, others, ct));
        return hidden;
    }

    /// <summary>The users <paramref name="userId"/> blocked: they get none of its presence or typing.</summary>
    public Task<IReadOnlyList<string>> BlockedByAsync(string userId, CancellationToken ct) => store.ListBlockedAsync(userId, ct);

    /// <summary>
    /// The pointers of a chat as <paramref name="viewerId"/> may see them: a member who sends no read receipts counts
    /// as delivered (never read) up to where they read, except to themselves.
    /// </summary>
    public async Task<IReadOnlyList<MemberPointers>> VisiblePointersAsync(IReadOnlyList<MemberPointers> all, string viewerId, CancellationToken ct)
    {
        var silent = await SwitchedOffAsync(all.Where(p => p.UserId != viewerId && p.ReadSeq > 0).Select(p => p.UserId).ToList(), s => s.SendReadReceipts, ct);
        if (silent.Count == 0) return all;
        return all.Select(p => silent.Contains(p.UserId)
            ? p with { DeliveredSeq = Math.Max(p.DeliveredSeq, p.ReadSeq), ReadSeq = 0 }
            : p).ToList();
    }

    /// <summary>Those of <paramref name="userIds"/> who switched off the setting <paramref name="isOn"/> reads.</summary>
    private async Task<HashSet<string>> SwitchedOffAsync(IReadOnlyCollection<string> userIds, Func<PrivacySettings, bool> isOn, CancellationToken ct)
    {
        var off = new HashSet<string>(StringComparer.Ordinal);
        if (userIds.Count == 0) return off;
        foreach (var (id, s) in await store.GetPrivacyAsync(userIds, ct))
            if (!isOn(s)) off.Add(id);
        return off;
    }
}
