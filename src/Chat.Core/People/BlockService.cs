using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.Presence;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.People;

/// <summary>
/// Blocking (PROTOCOL.md v1.1): one-way. The blocked user cannot send to the direct chat with the blocker and gets no
/// typing or presence from them (sees them offline, no last seen); groups are unaffected. The rules are enforced where
/// those paths start (<see cref="PrivacyRules"/>; the send path through the direct chat's cached members, which this
/// service drops on every node); it changes them and tells the blocked user's devices at once what they may see now.
/// </summary>
public sealed class BlockService(IUserStore users, IPrivacyStore blocks, PresenceService presence, IBackplane backplane, TimeProvider time)
{
    public async Task BlockAsync(string userId, string? targetId, CancellationToken ct)
    {
        await RequireOtherUserAsync(userId, targetId, ct);
        await blocks.BlockAsync(userId, targetId!, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        await backplane.InvalidateChatAsync(new ChatId(ChatRef.Direct(userId, targetId!)), ct);
        await TellAsync(targetId!, PresenceDto.Hidden(userId), ct);
    }

    public async Task UnblockAsync(string userId, string? targetId, CancellationToken ct)
    {
        await RequireOtherUserAsync(userId, targetId, ct);
        await blocks.UnblockAsync(userId, targetId!, ct);
        await backplane.InvalidateChatAsync(new ChatId(ChatRef.Direct(userId, targetId!)), ct);
        await TellAsync(targetId!, (await presence.GetAsync(targetId!, [userId], ct))[0], ct);
    }

    public async Task<UserList> ListAsync(string userId, CancellationToken ct)
    {
        var ids = await blocks.ListBlockedAsync(userId, ct);
        if (ids.Count == 0) return new UserList([]);
        var byId = (await users.GetUsersAsync(ids, ct)).ToDictionary(u => u.UserId);
        return new UserList(ids.Where(byId.ContainsKey).Select(id => new UserSummaryDto(id, byId[id].Username, byId[id].DisplayName)).ToList());
    }

    /// <summary>The other user's devices, wherever they are connected, get the presence they may see now.</summary>
    private ValueTask TellAsync(string viewerId, PresenceDto p, CancellationToken ct) =>
        backplane.SendToUsersAsync([new UserId(viewerId)], new OutboundEvent(Frames.Encode(PresenceFrame.Of(p))), ct);

    private async Task RequireOtherUserAsync(string userId, string? targetId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(targetId)) throw ChatException.Invalid("user_id is required.");
        if (targetId == userId) throw ChatException.Invalid("You cannot block yourself.");
        if (await users.GetUserAsync(targetId, ct) is null) throw ChatException.NotFound("User");
    }
}
