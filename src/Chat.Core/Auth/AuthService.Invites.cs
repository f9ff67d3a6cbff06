using System.Security.Cryptography;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.Extensions.Logging;

namespace Chat.Core.Auth;

// Invite-only registration (Chat:Auth:Registration=invite): server admins (Chat:Auth:Admins) make invites.
public sealed partial class AuthService
{
    public const int MaxInviteUses = 100;
    public const int MaxInviteHours = 720;

    private readonly HashSet<string> _admins = new(options.Value.Auth.Admins.Select(a => a.Trim()), StringComparer.OrdinalIgnoreCase);

    public RegistrationDto Registration => new(_registration.ToString().ToLowerInvariant());

    // One answer for unknown, expired and used-up codes: the answer tells nothing about which codes exist.
    private static ChatException InviteNotValid() => ChatException.Forbidden("This invite is not valid.");

    /// <summary>The hash of a usable invite code; refuses a missing or unusable one.</summary>
    private async Task<string> CheckInviteAsync(string? code, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(code)) throw ChatException.Forbidden("Registration needs an invite.");
        if (code.Length > 64) throw InviteNotValid();
        string hash = Ids.HashToken(code);
        if (await users.FindUsableInviteAsync(hash, time.NowMs(), ct) is null) throw InviteNotValid();
        return hash;
    }

    private async Task<UserRecord> RequireAdminAsync(Principal who, CancellationToken ct)
    {
        var user = await users.GetUserAsync(who.UserId, ct);
        if (user is null || !_admins.Contains(user.Username)) throw ChatException.Forbidden("Only server admins can manage invites.");
        return user;
    }

    /// <summary>Makes an invite; its code (128 random bits) is returned once and stored only as a hash.</summary>
    public async Task<InviteCreatedDto> CreateInviteAsync(Principal who, CreateInviteRequest req, CancellationToken ct)
    {
        var admin = await RequireAdminAsync(who, ct);
        int maxUses = req.MaxUses ?? 1, hours = req.ExpiresInHours ?? 168;
        if (maxUses is < 1 or > MaxInviteUses) throw ChatException.Invalid($"max_uses must be 1-{MaxInviteUses}.");
        if (hours is < 1 or > MaxInviteHours) throw ChatException.Invalid($"expires_in_hours must be 1-{MaxInviteHours}.");
        string code = Ids.Base64Url(RandomNumberGenerator.GetBytes(16));
        long now = time.NowMs();
        var invite = new InviteRecord(Ids.NewId(), Ids.HashToken(code), admin.UserId, now, now + hours * 3_600_000L, maxUses, 0);
        await users.CreateInviteAsync(invite, ct);
        LogInviteCreated(log, invite.InviteId, admin.Username, maxUses, hours);
        return new InviteCreatedDto(invite.InviteId, code, invite.ExpiresAt, maxUses);
    }

    /// <summary>Invites that can still be used (codes are not kept, so not shown).</summary>
    public async Task<InviteList> ListInvitesAsync(Principal who, CancellationToken ct)
    {
        await RequireAdminAsync(who, ct);
        var invites = await users.ListUsableInvitesAsync(time.NowMs(), ct);
        return new InviteList(invites.Select(i => new InviteDto(i.InviteId, i.CreatedBy, i.CreatedAt, i.ExpiresAt, i.MaxUses, i.Uses)).ToList());
    }

    public async Task DeleteInviteAsync(Principal who, string inviteId, CancellationToken ct)
    {
        var admin = await RequireAdminAsync(who, ct);
        if (inviteId.Length > 64 || !await users.DeleteInviteAsync(inviteId, ct)) throw ChatException.NotFound("Invite");
        LogInviteDeleted(log, inviteId, admin.Username);
    }

    [LoggerMessage(1504, LogLevel.Information, "Invite {InviteId} made by admin {Username}: {MaxUses} uses, {Hours} hours")]
    private static partial void LogInviteCreated(ILogger logger, string inviteId, string username, int maxUses, int hours);

    [LoggerMessage(1505, LogLevel.Information, "Invite {InviteId} deleted by admin {Username}")]
    private static partial void LogInviteDeleted(ILogger logger, string inviteId, string username);

    [LoggerMessage(1506, LogLevel.Information, "User {Username} registered with an invite")]
    private static partial void LogRegisteredWithInvite(ILogger logger, string username);
}
