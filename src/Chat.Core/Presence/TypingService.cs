using Chat.Core.Background;
using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.People;
using Chat.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Presence;

/// <summary>
/// Typing indicators: relayed to the other members' online devices, never stored. The server stops a typer itself
/// after the timeout or when the typing device disconnects.
/// Throttled per (user, chat) (issue 17: a flood of typing frames overflowed the victims' queues): while a user is
/// shown typing, a repeated <c>typing_start</c> is relayed at most once per <c>Chat:Presence:TypingRebroadcastSeconds</c>;
/// a <c>typing_stop</c> only when a start was relayed before it, and a start after a relayed stop is relayed at once
/// (a user who stops and types again is shown typing again). So every relayed frame changes what the members see;
/// a start/stop flip-flop flood is bounded by the sender's per-socket typing budget (<c>Chat:Gateway:FrameLimits</c>).
/// State is one entry per (chat, user) shown typing; entries expire in <see cref="StepAsync"/>.
/// </summary>
public sealed class TypingService(
    MembershipCache membership, IBackplane backplane, PrivacyRules privacy, IOptions<ChatOptions> options, TimeProvider time, ILogger<TypingService> log)
    : PeriodicService(time, log)
{
    private sealed class Typer
    {
        public required string DeviceId;
        /// <summary>When the typing timeout stops this typer.</summary>
        public long ExpiresAt;
        public long LastBroadcast;
    }

    private readonly object _gate = new();
    private readonly Dictionary<(string ChatId, string UserId), Typer> _typing = [];
    private readonly long _timeoutMs = (long)(options.Value.Presence.TypingTimeoutSeconds * 1000);
    private readonly long _rebroadcastMs = (long)(options.Value.Presence.TypingRebroadcastSeconds * 1000);

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A <c>typing_start</c> frame (named so, not StartAsync, to stay clear of the hosted-service lifecycle).</summary>
    public async Task StartTypingAsync(string userId, string deviceId, string? chatId, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, new UserId(userId), NonMember.Forbidden, ct);
        long now = Now;
        bool broadcast;
        lock (_gate)
        {
            var key = (members.ChatId.Value, userId);
            if (_typing.TryGetValue(key, out var t))
            {
                t.ExpiresAt = now + _timeoutMs;
                t.DeviceId = deviceId;
                // Already shown typing: a repeat only refreshes the indicator once per window.
                broadcast = now - t.LastBroadcast >= _rebroadcastMs;
                if (broadcast) t.LastBroadcast = now;
            }
            else
            {
                // Not shown typing (never, or a stop was relayed): shown at once.
                _typing[key] = new Typer { DeviceId = deviceId, ExpiresAt = now + _timeoutMs, LastBroadcast = now };
                broadcast = true;
            }
        }
        if (broadcast) await RelayAsync("typing_start", members, userId, ct);
    }

    /// <summary>A <c>typing_stop</c> frame: relayed only when the members were shown this user typing.</summary>
    public async Task StopTypingAsync(string userId, string? chatId, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, new UserId(userId), NonMember.Forbidden, ct);
        lock (_gate)
        {
            // Not shown typing: a repeated stop is dropped.
            if (!_typing.Remove((members.ChatId.Value, userId))) return;
        }
        await RelayAsync("typing_stop", members, userId, ct);
    }

    /// <summary>The device's connection closed: stop whatever it was typing.</summary>
    public async Task DeviceGoneAsync(string deviceId)
    {
        List<(string ChatId, string UserId)> stopped;
        lock (_gate)
        {
            stopped = _typing.Where(kv => kv.Value.DeviceId == deviceId).Select(kv => kv.Key).ToList();
            foreach (var key in stopped) _typing.Remove(key);
        }
        await StopAllAsync(stopped);
    }

    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(Math.Clamp(_timeoutMs / 10, 50, 500));

    /// <summary>Stops the typers whose timeout passed.</summary>
    protected override async Task StepAsync(CancellationToken ct)
    {
        long now = Now;
        List<(string ChatId, string UserId)> expired;
        lock (_gate)
        {
            if (_typing.Count == 0) return;
            expired = _typing.Where(kv => kv.Value.ExpiresAt <= now).Select(kv => kv.Key).ToList();
            foreach (var key in expired) _typing.Remove(key);
        }
        await StopAllAsync(expired);
    }

    private async Task StopAllAsync(List<(string ChatId, string UserId)> stopped)
    {
        foreach (var (chatId, userId) in stopped)
        {
            var members = await membership.GetAsync(chatId, CancellationToken.None);
            if (members is not null) await RelayAsync("typing_stop", members, userId, CancellationToken.None);
        }
    }

    /// <summary>To the other members, except those the typer blocked (v1.1: they get no typing from them, in any chat).</summary>
    private async Task RelayAsync(string type, ChatMembers members, string userId, CancellationToken ct)
    {
        var blocked = await privacy.BlockedByAsync(userId, ct);
        var others = members.Members.Where(m => m.Value != userId && !blocked.Contains(m.Value)).ToList();
        if (others.Count == 0) return;
        await backplane.SendToUsersAsync(others, new OutboundEvent(Frames.Encode(new TypingFrame(type, members.ChatId.Value, userId))), ct);
    }
}
