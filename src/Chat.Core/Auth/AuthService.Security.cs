using Chat.Core.Domain;
using Chat.Protocol;
using Microsoft.AspNetCore.Identity;

namespace Chat.Core.Auth;

// Profile and security: password change, signing other devices out, device names.
public sealed partial class AuthService
{
    /// <summary>Longest display or device name, in UTF-16 chars after cleaning.</summary>
    public const int MaxNameChars = 64;

    /// <summary>
    /// Changes the password after checking the current one, then revokes every OTHER device of the user
    /// (their sockets close with 4001 on every node); the calling device stays signed in.
    /// </summary>
    public async Task ChangePasswordAsync(Principal who, ChangePasswordRequest req, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(req.CurrentPassword) || req.CurrentPassword.Length > 1024)
            throw new ChatException(ErrorCodes.Unauthorized, "The current password is wrong.");
        if (!Validation.IsValidPassword(req.NewPassword))
            throw ChatException.Invalid("Password must be 8-128 characters.");
        var user = await users.GetUserAsync(who.UserId, ct) ?? throw ChatException.NotFound("User");
        bool ok = await HashAsync(() => Hasher.VerifyHashedPassword(user, user.PasswordHash, req.CurrentPassword), ct) != PasswordVerificationResult.Failed;
        if (!ok) throw new ChatException(ErrorCodes.Unauthorized, "The current password is wrong.");
        string hash = await HashAsync(() => Hasher.HashPassword(user, req.NewPassword!), ct);
        if (!await users.UpdatePasswordHashAsync(user.UserId, hash, ct)) throw ChatException.NotFound("User");
        await SignOutOthersAsync(who, ct);
    }

    /// <summary>Revokes every device of the user except the calling one; returns how many were revoked.</summary>
    public async Task<int> SignOutOthersAsync(Principal who, CancellationToken ct)
    {
        int revoked = 0;
        foreach (var device in await users.ListDevicesAsync(who.UserId, ct))
        {
            if (device.DeviceId == who.DeviceId) continue;
            try
            {
                await RevokeAsync(who.UserId, device.DeviceId, ct);
                revoked++;
            }
            catch (ChatException e) when (e.Code == ErrorCodes.NotFound)
            {
                // Revoked concurrently (another tab, another node): already what we want.
            }
        }
        return revoked;
    }

    public async Task RenameDeviceAsync(string userId, string deviceId, string? name, CancellationToken ct)
    {
        string clean = CleanName(name, "Device name");
        if (!await users.RenameDeviceAsync(userId, deviceId, clean, ct)) throw ChatException.NotFound("Device");
    }

    /// <summary>
    /// A display or device name: bidi and control characters removed, surrounding space trimmed;
    /// empty or longer than <see cref="MaxNameChars"/> is refused (not silently cut).
    /// </summary>
    public static string CleanName(string? value, string what)
    {
        if (value is null) throw ChatException.Invalid($"{what} is required.");
        if (value.Length > MaxNameChars * 4) throw ChatException.Invalid($"{what} must be at most {MaxNameChars} characters.");
        string clean = Validation.CleanLabel(value, int.MaxValue)!;
        if (clean.Length == 0) throw ChatException.Invalid($"{what} must not be empty.");
        if (clean.Length > MaxNameChars) throw ChatException.Invalid($"{what} must be at most {MaxNameChars} characters.");
        return clean;
    }
}
