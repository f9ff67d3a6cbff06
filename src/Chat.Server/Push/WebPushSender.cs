using System.Net;
using System.Net.Sockets;
using Chat.Core;
using Chat.Core.Notifications;
using Lib.Net.Http.WebPush;
using Lib.Net.Http.WebPush.Authentication;
using Microsoft.Extensions.Options;

namespace Chat.Server.Push;

/// <summary>
/// <see cref="IPushSender"/> over Lib.Net.Http.WebPush: RFC 8291 aes128gcm encryption and RFC 8292 VAPID (the library's,
/// not ours). Its HTTP client never follows redirects, uses no proxy, and connects only to public addresses: the host is
/// resolved here and every address checked before the socket opens (unless Chat:Push:AllowInsecureEndpoints).
/// </summary>
internal sealed class WebPushSender : IPushSender, IDisposable
{
    private readonly HttpClient _http;
    private readonly PushServiceClient _client;
    private readonly int _ttl;

    public WebPushSender(VapidKeys keys, IOptions<ChatOptions> options)
    {
        var push = options.Value.Push;
        _ttl = push.TimeToLiveSeconds;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // a redirect could point anywhere, the checks below included
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(push.SendTimeoutSeconds),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // pick up DNS changes (and re-check them)
        };
        if (!push.AllowInsecureEndpoints) handler.ConnectCallback = ConnectToPublicAsync;
        var vapid = new VapidAuthentication(keys.PublicKey, keys.PrivateKey) { Subject = push.VapidSubject };
        // The dispatcher bounds each send with its own timeout.
        _http = new HttpClient(new OriginAudience(vapid) { InnerHandler = handler }) { Timeout = Timeout.InfiniteTimeSpan };
        _client = new PushServiceClient(_http)
        {
            DefaultAuthentication = vapid,
            DefaultAuthenticationScheme = VapidAuthenticationScheme.Vapid,
            AutoRetryAfter = false, // retries are the dispatcher's (bounded, off the worker)
        };
    }

    public async Task<PushResult> SendAsync(PushSubscriptionRecord subscription, string topic, string payloadJson, CancellationToken ct)
    {
        var target = new PushSubscription { Endpoint = subscription.Endpoint };
        target.SetKey(PushEncryptionKeyName.P256DH, subscription.P256dh);
        target.SetKey(PushEncryptionKeyName.Auth, subscription.Auth);
        var message = new PushMessage(payloadJson) { Topic = topic, TimeToLive = _ttl, Urgency = PushMessageUrgency.Normal };
        try
        {
            await _client.RequestPushMessageDeliveryAsync(target, message, ct);
            return new PushResult(PushOutcome.Sent, 201);
        }
        catch (PushServiceClientException ex)
        {
            int status = (int)ex.StatusCode;
            return new PushResult(status is 404 or 410 ? PushOutcome.Gone : PushOutcome.Failed, status, ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return new PushResult(PushOutcome.Failed, null, ex.Message);
        }
    }

    /// <summary>Resolves the host and connects to a checked address (so a DNS answer cannot change between check and use).</summary>
    private static async ValueTask<Stream> ConnectToPublicAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        IPAddress[] addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        if (addresses.Length == 0 || !addresses.All(PushEndpointPolicy.IsPublic))
            throw new HttpRequestException($"Push endpoint host {host} is not on a public address; refused.");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// RFC 8292 §2: the JWT's <c>aud</c> is the push resource's origin, port included. The library leaves a non-default
    /// port out (real push services listen on 443, where both agree); this re-signs with the exact origin, using the
    /// library's own VAPID signing.
    /// </summary>
    private sealed class OriginAudience(VapidAuthentication vapid) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { IsDefaultPort: false } uri)
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                    "vapid", vapid.GetVapidSchemeAuthenticationHeaderValueParameter(uri.GetLeftPart(UriPartial.Authority)));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
