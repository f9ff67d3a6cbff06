using Chat.Backplane.Redis;
using Chat.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Resources;

namespace Chat.Server.Diagnostics;

/// <summary>
/// The OpenTelemetry resource of the node: <c>service.name</c> from <c>Chat:ServiceName</c>, else the standard
/// <c>OTEL_SERVICE_NAME</c>, else <see cref="DefaultName"/>; <c>service.instance.id</c> = the cluster node id when the
/// node has one (the Redis backplane's). Prometheus shows it as the <c>target_info</c> metric.
/// </summary>
internal sealed class ServiceResource(IOptions<ChatOptions> options, IConfiguration config, IServiceProvider services) : IResourceDetector
{
    public const string DefaultName = "chat-server";

    public Resource Detect()
    {
        string name = options.Value.ServiceName is { Length: > 0 } configured ? configured
            : config["OTEL_SERVICE_NAME"] is { Length: > 0 } standard ? standard
            : DefaultName;
        var attributes = new Dictionary<string, object> { ["service.name"] = name };
        // Only registered with Chat:Backplane=redis; a single node has no id of its own to report.
        if (services.GetService<RedisConnection>() is { } redis) attributes["service.instance.id"] = redis.NodeId;
        return new Resource(attributes);
    }
}
