using System.Buffers.Text;
using Chat.Core.Auth;
using Chat.Protocol;
using Microsoft.Extensions.Options;

namespace Chat.Core.Notifications;

/// <summary><c>POST|DELETE /api/push/subscriptions</c>: one subscription per device, endpoints checked against SSRF.</summary>
public sealed class PushSubscriptionService(INotificationStore store, IOptions<ChatOptions> options, TimeProvider time)
{
    private readonly bool _allowInsecure = options.Value.Push.AllowInsecureEndpoints;

    public async Task SubscribeAsync(Principal me, PushSubscriptionRequest? req, CancellationToken ct)
    {
        var uri = PushEndpointPolicy.Parse(req?.Endpoint, _allowInsecure);
        string p256dh = req!.Keys?.P256dh ?? "", auth = req.Keys?.Auth ?? "";
        // The browser's keys (RFC 8291): an uncompressed P-256 point and a 16-byte secret; anything else cannot be encrypted for.
        if (!TryDecode(p256dh, out var point) || point.Length != 65 || point[0] != 0x04)
            throw ChatException.Invalid("keys.p256dh must be a base64url uncompressed P-256 public key.");
        if (!TryDecode(auth, out var secret) || secret.Length != 16)
            throw ChatException.Invalid("keys.auth must be a base64url 16-byte secret.");
        await PushEndpointPolicy.EnsurePublicAsync(uri, _allowInsecure, ct);
        await store.SavePushSubscriptionAsync(new PushSubscriptionRecord(
            me.DeviceId, me.UserId, req.Endpoint!, p256dh, auth, time.GetUtcNow().ToUnixTimeMilliseconds()), ct);
    }

    public Task UnsubscribeAsync(Principal me, CancellationToken ct) => store.DeletePushSubscriptionAsync(me.DeviceId, null, ct);

    private static bool TryDecode(string value, out byte[] bytes)
    {
        bytes = [];
        if (value.Length is 0 or > 200) return false;
        // Browsers send base64url; accept padding and the standard alphabet too (some libraries produce them).
        string s = value.TrimEnd('=').Replace('+', '-').Replace('/', '_');
        try
        {
            bytes = Base64Url.DecodeFromChars(s);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
