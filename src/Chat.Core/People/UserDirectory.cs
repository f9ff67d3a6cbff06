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

    public async Task<UserList> FindUsersAsync(string? username, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(username)) throw ChatException.Invalid("username is required.");
        var user = await users.FindByUsernameAsync(username.ToLowerInvariant(), ct);
        return new UserList(user is null ? [] : [new UserSummaryDto(user.UserId, user.Username, user.DisplayName)]);
    }
}
