using Chat.Tests.Infrastructure;

namespace Chat.Tests.Cluster;

/// <summary>What operators rely on: unsafe cluster configurations refuse to start, and /metrics shows the cluster's instruments.</summary>
public sealed class ClusterOperationsTests
{
    [Fact]
    public async Task A_cluster_with_unshared_local_blobs_refuses_to_start()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(
            ("Chat:Backplane", "redis"), ("ConnectionStrings:Redis", "127.0.0.1:6379"), ("Chat:Blobs", "local")));
        Assert.Contains("Chat:BlobsShared", Flatten(ex));
    }

    [Fact]
    public async Task The_redis_backplane_without_a_connection_string_refuses_to_start_with_a_clear_message()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(("Chat:Backplane", "redis"), ("Chat:BlobsShared", "true")));
        Assert.Contains("ConnectionStrings:Redis", Flatten(ex));
    }

    [ClusterFact]
    public async Task Metrics_expose_connections_queues_commits_deliveries_and_backplane_traffic()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var (_, alice) = await cluster.NewUserAsync(0, "ma");
        var (_, bob) = await cluster.NewUserAsync(1, "mb");
        string chat = string.CompareOrdinal(alice.UserId, bob.UserId) < 0 ? $"{alice.UserId}_{bob.UserId}" : $"{bob.UserId}_{alice.UserId}";
        await using var a = await cluster.ConnectReadyAsync(0, alice.Token);
        await using var b = await cluster.ConnectReadyAsync(1, bob.Token);
        await b.SendAsync(new System.Text.Json.Nodes.JsonObject { ["type"] = "presence_subscribe", ["user_ids"] = new System.Text.Json.Nodes.JsonArray(alice.UserId) });
        await b.NextAsync("presence_update");
        await a.SendMessageAsync(chat, "counted");
        await b.NextAsync("new_message");

        using var http = new HttpClient { BaseAddress = cluster[1].BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        string text = "";
        string[] expected =
        [
            "chat_connections_devices", "chat_connections_outbound_queued", "chat_commit_queue_length", "chat_presence_subscriptions",
            "chat_messages_accepted_total", "chat_messages_delivered_total", "chat_commit_batch_size", "chat_commit_duration",
            "chat_backplane_published_total", "chat_backplane_received_total",
        ];
        // The exporter caches a scrape briefly: poll until the counters of this traffic are in.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            text = await http.GetStringAsync("/metrics");
            if (expected.All(text.Contains)) break;
            await Task.Delay(300);
        }
        while (DateTime.UtcNow < deadline);
        Assert.All(expected, name => Assert.Contains(name, text));
        Assert.Contains("# TYPE chat_connections_devices gauge", text);
    }

    private static string Flatten(Exception ex) => ex is AggregateException agg
        ? string.Join('\n', agg.Flatten().InnerExceptions.Select(Flatten))
        : ex.ToString();
}
