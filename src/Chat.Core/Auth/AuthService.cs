using Chat.Core.Caching;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Chat.Core.Auth;

/// <summary>The device a bearer token belongs to.</summary>
public sealed record Principal(string UserId, string DeviceId, long DeviceCreatedAt);

public sealed class AuthService(IUserStore users, IBackplane backplane, IOptions<ChatOptions> options, ChatMetrics metrics, TimeProvider time)
{
    private static readonly PasswordHasher<UserRecord> Hasher = new();
    // Token → device, so REST calls and socket upgrades do not hash + query every time.
    // Entries expire quickly so a revocation made on another node takes effect within seconds.
    private static readonly TimeSpan CacheTtl = TimeSpan.FromSeconds(5);
    private readonly BoundedCache<string, (Principal? Principal, DateTimeOffset Expires)> _tokenCache =
        new("tokens", options.Value.Caches.Tokens, metrics, StringComparer.Ordinal);

    public async Task<AuthResponse> RegisterAsync(RegisterRequest req, CancellationToken ct)
    {
        if (!Validation.IsValidUsername(req.Username))
            throw ChatException.Invalid("Username must be 3-32 characters of a-z, 0-9, '.', '_' or '-'.");
        if (!Validation.IsValidPassword(req.Password))
            throw ChatException.Invalid("Password must be 8-128 characters.");
        string username = req.Username!.ToLowerInvariant();
        string display = Validation.CleanLabel(req.DisplayName, 64) is { Length: > 0 } d ? d : username;
        var user = new UserRecord(Ids.NewId(), username, display, "", time.NowMs());
        user = user with { PasswordHash = Hasher.HashPassword(user, req.Password!) };
        if (!await users.CreateUserAsync(user, ct))
            throw new ChatException(ErrorCodes.Conflict, "That username is taken.");
        return await NewDeviceAsync(user, req.DeviceName, ct);
    }

    public async Task<AuthResponse> LoginAsync(LoginRequest req, CancellationToken ct)
    {
        var fail = new ChatException(ErrorCodes.Unauthorized, "Wrong username or password.");
        if (string.IsNullOrEmpty(req.Username) || string.IsNullOrEmpty(req.Password) || req.Password.Length > 1024) throw fail;
        var user = await users.FindByUsernameAsync(req.Username.ToLowerInvariant(), ct);
        if (user is null)
        {
            Hasher.HashPassword(new UserRecord("", "", "", "", 0), req.Password); // same cost either way: no username probing by timing
            throw fail;
        }
        var result = Hasher.VerifyHashedPassword(user, user.PasswordHash, req.Password);
        if (result == PasswordVerificationResult.Failed) throw fail;
        return await NewDeviceAsync(user, req.DeviceName, ct);
    }

    private async Task<AuthResponse> NewDeviceAsync(UserRecord user, string? deviceName, CancellationToken ct)
    {
        string token = Ids.NewToken();
        long now = time.NowMs();
        string name = Validation.CleanLabel(deviceName, 64) is { Length: > 0 } n ? n : "device";
        var device = new DeviceRecord(Ids.NewId(), user.UserId, name, Ids.HashToken(token), now, now);
        await users.CreateDeviceAsync(device, ct);
        return new AuthResponse(user.UserId, user.Username, user.DisplayName, device.DeviceId, token);
    }

    /// <summary>The device of a token, or null when the token is missing, unknown or revoked.</summary>
    public async ValueTask<Principal?> AuthenticateAsync(string? token, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 256) return null;
        if (_tokenCache.TryGetValue(token, out var hit) && hit.Expires > time.GetUtcNow()) return hit.Principal;
        var device = await users.FindDeviceByTokenHashAsync(Ids.HashToken(token), ct);
        var principal = device is null ? null : new Principal(device.UserId, device.DeviceId, device.CreatedAt);
        _tokenCache.Set(token, (principal, time.GetUtcNow() + CacheTtl));
        return principal;
    }

    public async Task LogoutAsync(string token, Principal who, CancellationToken ct)
    {
        await RevokeAsync(who.UserId, who.DeviceId, ct);
        _tokenCache.TryRemove(token);
    }

    /// <summary>Revokes a device of this user and closes its sockets (4001) on every node.</summary>
    public async Task RevokeAsync(string userId, string deviceId, CancellationToken ct)
    {
        if (!await users.RevokeDeviceAsync(userId, deviceId, ct)) throw ChatException.NotFound("Device");
        _tokenCache.RemoveWhere((_, entry) => entry.Principal?.DeviceId == deviceId);
        await backplane.CloseDeviceAsync(new UserId(userId), new DeviceId(deviceId), CloseCodes.Unauthorized, ct);
    }
}
