using Chat.Core.Presence;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.People;

/// <summary>Looking people up (a profile with presence as the viewer may see it, a user by exact username) and one's own profile.</summary>
public sealed class UserDirectory(IUserStore users, IPrivacyStore privacyStore, PrivacyRules privacy, PresenceService presence)
{
    public async Task<UserDto> GetUserAsync(string viewerId, string userId, CancellationToken ct)
    {
        var user = await users.GetUserAsync(userId, ct) ?? throw ChatException.NotFound("User");
        var p = (await presence.GetAsync(viewerId, [userId], ct))[0];
        return new UserDto(user.UserId, user.Username, user.DisplayName, p.Status, p.LastSeen);
    }

    public async Task<MeDto> GetMeAsync(string userId, CancellationToken ct)
    {
        var u = await users.GetUserAsync(userId, ct) ?? throw ChatException.NotFound("User");
        var s = await privacy.SettingsOfAsync(userId, ct);
        return new MeDto(u.UserId, u.Username, u.DisplayName, u.CreatedAt, new PrivacySettingsDto(s.SendReadReceipts, s.SharePresence));
    }

    /// <summary>PATCH /api/users/me: display name and privacy switches (validated before anything is written).</summary>
    public async Task<MeDto> UpdateMeAsync(string userId, UpdateMeRequest req, CancellationToken ct)
    {
        string? name = req.DisplayName is null ? null : Auth.AuthService.CleanName(req.DisplayName, "Display name");
        if (name is not null && !await users.UpdateDisplayNameAsync(userId, name, ct)) throw ChatException.NotFound("User");
        if (req.Settings is { } patch)
        {
            var old = await privacy.SettingsOfAsync(userId, ct);
            var next = new PrivacySettings(patch.SendReadReceipts ?? old.SendReadReceipts, patch.SharePresence ?? old.SharePresence);
            if (next != old)
            {
                await privacyStore.SetPrivacyAsync(userId, next, ct);
                // Subscribers learn at once: offline with no last seen, or the real state again.
                if (next.SharePresence != old.SharePresence) await presence.RepublishAsync(userId, ct);
            }
        }
        return await GetMeAsync(userId, ct);
    }

    public async Task<UserList> FindUsersAsync(string? username, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(username)) throw ChatException.Invalid("username is required.");
        var user = await users.FindByUsernameAsync(username.ToLowerInvariant(), ct);
        return new UserList(user is null ? [] : [new UserSummaryDto(user.UserId, user.Username, user.DisplayName)]);
    }
}
