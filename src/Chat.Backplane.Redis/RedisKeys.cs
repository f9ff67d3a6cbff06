using StackExchange.Redis;

namespace Chat.Backplane.Redis;

/// <summary>
/// Every key and channel name. Per-user keys carry the hash tag <c>{u:&lt;userId&gt;}</c>, so in Redis Cluster all of a
/// user's keys live in one slot (a Lua script may touch several of them) and users spread evenly over the shards.
/// </summary>
internal sealed class RedisKeys(string prefix, string nodeId)
{
    public string NodeId { get; } = nodeId;

    /// <summary>ZSET nodeId → expiry (ms): the nodes holding at least one device of the user.</summary>
    public RedisKey Routes(string userId) => $"{prefix}:{{u:{userId}}}:nodes";

    /// <summary>HASH deviceId → "away|refreshedAt|node", plus ~ls (last seen) and ~st (status when the last device left).</summary>
    public RedisKey Presence(string userId) => $"{prefix}:{{u:{userId}}}:presence";

    /// <summary>HASH t (tokens), s (stamp ms): the user's message token bucket.</summary>
    public RedisKey RateBucket(string userId) => $"{prefix}:{{u:{userId}}}:rate";

    /// <summary>STRING with a TTL of the collapse window: the device was pushed for the chat.</summary>
    public RedisKey PushCollapse(string deviceId, string chatId) => $"{prefix}:push:{deviceId}:{chatId}";

    /// <summary>Events addressed to one node (deliveries).</summary>
    public RedisChannel NodeChannel(string node) => RedisChannel.Literal($"{prefix}:node:{node}");

    /// <summary>Events every node needs (presence, chat invalidation, device close, route invalidation).</summary>
    public RedisChannel Broadcast => RedisChannel.Literal($"{prefix}:all");
}
