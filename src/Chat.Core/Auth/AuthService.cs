using Chat.Core.Caching;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Auth;

/// <summary>The device a bearer token belongs to.</summary>
public sealed record Principal(string UserId, string DeviceId, long DeviceCreatedAt);

public sealed partial class AuthService(IUserStore users, IBackplane backplane, IOptions<ChatOptions> options, ChatMetrics metrics, TimeProvider time, ILogger<AuthService> log) : IDisposable
{
    /// <summary>PBKDF2-HMAC-SHA512 iterations of new hashes (OWASP 2023). A hash with fewer still verifies and is rewritten at its next login.</summary>
    public const int PasswordIterations = 210_000;
    private static readonly PasswordHasher<UserRecord> Hasher = new(Options.Create(new PasswordHasherOptions { IterationCount = PasswordIterations }));
    // Token → device, so REST calls and socket upgrades do not hash + query every time.
    // Entries expire quickly so a revocation made on another node takes effect within seconds.
    private static readonly TimeSpan CacheTtl = TimeSpan.FromSeconds(5);
    private readonly BoundedCache<string, (Principal? Principal, DateTimeOffset Expires)> _tokenCache =
        new("tokens", options.Value.Caches.Tokens, metrics, StringComparer.Ordinal);

    // Password hashing is the one CPU-heavy step a stranger can trigger: a few at once, a bounded queue behind them.
    private readonly SemaphoreSlim _hashSlots = new(options.Value.Auth.MaxConcurrentHashes);
    private readonly int _maxHashesInFlight = options.Value.Auth.MaxConcurrentHashes + options.Value.Auth.MaxQueuedHashes;
    private int _hashesInFlight;
    private readonly AuthThrottle _throttle = new(time);
    private readonly int _loginsPerMinute = options.Value.RateLimit.LoginsPerMinute;
    private readonly int _registrationsPerMinute = options.Value.RateLimit.RegistrationsPerMinute;
    private readonly RegistrationMode _registration = options.Value.Auth.Registration;
    private readonly long _sessionIdleMs = options.Value.Auth.SessionIdleDays * 86_400_000L;
    // A session's stored last use is rewritten at most this often, so authenticating stays a read.
    private const long LastUseResolutionMs = 3_600_000;

    /// <param name="clientAddress">The caller's address, for the per-address registration limit.</param>
    public async Task<AuthResponse> RegisterAsync(RegisterRequest req, string clientAddress, CancellationToken ct)
    {
        if (_registration == RegistrationMode.Closed)
            throw ChatException.Forbidden("Registration is closed on this server.");
        if (!Validation.IsValidUsername(req.Username))
            throw ChatException.Invalid("Username must be 3-32 characters of a-z, 0-9, '.', '_' or '-'.");
        if (!Validation.IsValidPassword(req.Password))
            throw ChatException.Invalid("Password must be 8-128 characters.");
        string username = req.Username!.ToLowerInvariant();
        string display = Validation.CleanLabel(req.DisplayName, 64) is { Length: > 0 } d ? d : username;
        if (_throttle.HitAndCheck("register:" + clientAddress, _registrationsPerMinute) is > 0 and int wait)
            throw new ChatException(ErrorCodes.RateLimited, "Too many registrations from this address; try again later.", wait);
        // The invite is checked before hashing (a wrong one costs no hash) and its use taken with the insert.
        string? inviteHash = _registration == RegistrationMode.Invite ? await CheckInviteAsync(req.Invite, ct) : null;
        var user = new UserRecord(Ids.NewId(), username, display, "", time.NowMs());
        string hash = await HashAsync(() => Hasher.HashPassword(user, req.Password!), ct);
        user = user with { PasswordHash = hash };
        var taken = new ChatException(ErrorCodes.Conflict, "That username is taken.");
        if (inviteHash is null)
        {
            if (!await users.CreateUserAsync(user, ct)) throw taken;
        }
        else
        {
            switch (await users.CreateUserWithInviteAsync(user, inviteHash, time.NowMs(), ct))
            {
                case InviteRegistration.UsernameTaken: throw taken;
                case InviteRegistration.InviteNotValid: throw InviteNotValid(); // used up by another registration meanwhile
            }
            LogRegisteredWithInvite(log, user.Username);
        }
        return await NewDeviceAsync(user, req.DeviceName, ct);
    }

    /// <summary>
    /// Signs in. Failed attempts are counted per account and per client address; over
    /// <c>Chat:RateLimit:LoginsPerMinute</c> in a window, further attempts (right or wrong) are refused with
    /// <c>rate_limited</c> until that window ends, without hashing.
    /// </summary>
    public async Task<AuthResponse> LoginAsync(LoginRequest req, string clientAddress, CancellationToken ct)
    {
        var fail = new ChatException(ErrorCodes.Unauthorized, "Wrong username or password.");
        if (string.IsNullOrEmpty(req.Username) || string.IsNullOrEmpty(req.Password) || req.Password.Length > 1024) throw fail;
        string username = req.Username.ToLowerInvariant();
        string accountKey = "login-user:" + username, addressKey = "login-addr:" + clientAddress;
        int wait = Math.Max(_throttle.RetryAfterMs(accountKey, _loginsPerMinute), _throttle.RetryAfterMs(addressKey, _loginsPerMinute));
        if (wait > 0)
        {
            LogLoginThrottled(log, username.Length > 64 ? username[..64] : username, clientAddress);
            throw new ChatException(ErrorCodes.RateLimited, "Too many failed logins; try again later.", wait);
        }
        var user = await users.FindByUsernameAsync(username, ct);
        bool ok;
        if (user is null)
        {
            // Same cost either way: no username probing by timing.
            await HashAsync(() => Hasher.HashPassword(new UserRecord("", "", "", "", 0), req.Password), ct);
            ok = false;
        }
        else
        {
            var verdict = await HashAsync(() => Hasher.VerifyHashedPassword(user, user.PasswordHash, req.Password), ct);
            ok = verdict != PasswordVerificationResult.Failed;
            if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
            {
                // Made with fewer iterations (or an older format): rewrite it now that the password is at hand.
                string stronger = await HashAsync(() => Hasher.HashPassword(user, req.Password), ct);
                await users.UpdatePasswordHashAsync(user.UserId, stronger, ct);
            }
        }
        if (!ok)
        {
            if (_loginsPerMinute > 0)
            {
                _throttle.Hit(accountKey);
                _throttle.Hit(addressKey);
            }
            LogLoginFailed(log, username.Length > 64 ? username[..64] : username, clientAddress);
            throw fail;
        }
        return await NewDeviceAsync(user!, req.DeviceName, ct);
    }

    /// <summary>Runs a password hash in one of the few hashing slots; refuses when too many already wait.</summary>
    private async Task<T> HashAsync<T>(Func<T> hash, CancellationToken ct)
    {
        try
        {
            if (Interlocked.Increment(ref _hashesInFlight) > _maxHashesInFlight)
                throw new ChatException(ErrorCodes.RateLimited, "The server is busy signing others in; try again shortly.", 1000);
            await _hashSlots.WaitAsync(ct);
            try
            {
                return hash();
            }
            finally
            {
                _hashSlots.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _hashesInFlight);
        }
    }

    [LoggerMessage(1501, LogLevel.Warning, "Failed login for user {Username} from {ClientAddress}")]
    private static partial void LogLoginFailed(ILogger logger, string username, string clientAddress);

    [LoggerMessage(1502, LogLevel.Warning, "Login for user {Username} from {ClientAddress} refused: too many failed logins")]
    private static partial void LogLoginThrottled(ILogger logger, string username, string clientAddress);

    [LoggerMessage(1503, LogLevel.Information, "Session of device {DeviceId} expired after being idle")]
    private static partial void LogSessionExpired(ILogger logger, string deviceId);

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
        if (device is not null)
        {
            long now = time.NowMs();
            if (_sessionIdleMs > 0 && now - device.LastActive > _sessionIdleMs)
            {
                // Idle too long: the token is refused and the session removed, as a sign-out would.
                LogSessionExpired(log, device.DeviceId);
                await users.RevokeDeviceAsync(device.UserId, device.DeviceId, ct);
                device = null;
            }
            else if (now - device.LastActive >= LastUseResolutionMs)
            {
                await users.TouchDevicesAsync([(device.DeviceId, now)], ct);
            }
        }
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

    public void Dispose() => _hashSlots.Dispose();
}
