using Chat.Core.Presence;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.People;

/// <summary>Looking people up: a profile with presence, or a user by exact username.</summary>
public sealed class UserDirectory(IUserStore users, PresenceService presence)
{
    public async Task<UserDto> GetUserAsync(string userId, CancellationToken ct)
    {
        var user = await users.GetUserAsync(userId, ct) ?? throw ChatException.NotFound("User");
        var p = (await presence.GetAsync([userId], ct))[0];
        return new UserDto(user.UserId, user.Username, user.DisplayName, p.Status, p.LastSeen);
    }

    /// <summary>PATCH /api/users/me: a display name change (validated before anything is written).</summary>
    public async Task<MeDto> UpdateMeAsync(string userId, UpdateMeRequest req, CancellationToken ct)
    {
        if (req.DisplayName is not null)
        {
            string name = Auth.AuthService.CleanName(req.DisplayName, "Display name");
            if (!await users.UpdateDisplayNameAsync(userId, name, ct)) throw ChatException.NotFound("User");
        }
        var u = await users.GetUserAsync(userId, ct) ?? throw ChatException.NotFound("User");
        return new MeDto(u.UserId, u.Username, u.DisplayName, u.CreatedAt);
    }

    public async Task<UserList> FindUsersAsync(string? username, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(username)) throw ChatException.Invalid("username is required.");
        var user = await users.FindByUsernameAsync(username.ToLowerInvariant(), ct);
        return new UserList(user is null ? [] : [new UserSummaryDto(user.UserId, user.Username, user.DisplayName)]);
    }
}
