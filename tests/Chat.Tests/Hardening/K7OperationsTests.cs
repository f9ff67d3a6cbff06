using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Chat.Backplane.Redis;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17, operations: the client address behind a reverse proxy (<c>Chat:TrustedProxies</c>), the OpenAPI
/// document and the service name on <c>/metrics</c>, each against a real node on 127.0.0.1.
/// </summary>
public sealed class K7OperationsTests
{
    private static async Task<HttpStatusCode> LoginFromAsync(HttpClient http, string forwardedFor, string username)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login")
        {
            Content = JsonContent.Create(new { username, password = "whatever123" }),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Without_trusted_proxies_X_Forwarded_For_is_ignored_and_the_peer_is_limited()
    {
        await using var server = await TestServer.StartAsync(("Chat:RateLimit:LoginsPerMinute", "3"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        // A new account and a new claimed address each time: only the real peer (127.0.0.1) can be counted.
        for (int i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginFromAsync(http, $"203.0.113.{i + 1}", $"k7none{i}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginFromAsync(http, "203.0.113.99", "k7none-last"));
    }

    [Fact]
    public async Task A_trusted_proxy_s_X_Forwarded_For_names_the_client_for_limits_and_logs()
    {
        var capture = new K3LogCapture();
        await using var server = await TestServer.StartWithAsync(
            new TestServerSetup(Services: s => s.AddSingleton<ILoggerProvider>(capture)),
            ("Chat:RateLimit:LoginsPerMinute", "3"), ("Chat:TrustedProxies:0", "10.9.0.0/16"), ("Chat:TrustedProxies:1", "127.0.0.1"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        // Six clients behind the proxy, one failed login each: twice the limit from the peer's address, all counted apart.
        for (int i = 0; i < 6; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginFromAsync(http, $"198.51.100.{i + 1}", $"k7trusted{i}"));
        // One client is still limited, whichever proxy of the chain (all trusted) it came through.
        for (int i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginFromAsync(http, $"198.51.100.7, 10.9.{i}.1", $"k7same{i}"));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginFromAsync(http, "198.51.100.7", "k7same2"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginFromAsync(http, "198.51.100.7", "k7same3"));
        // A hop left of an untrusted one is the untrusted client's claim: the untrusted hop is the client.
        for (int i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginFromAsync(http, $"192.0.2.{i + 1}, 198.51.100.50", $"k7spoof{i}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginFromAsync(http, "192.0.2.9, 198.51.100.50", "k7spoof3"));

        var failed = capture.Lines.Where(l => l.Level == LogLevel.Warning && l.Text.Contains("Failed login", StringComparison.Ordinal)).ToList();
        Assert.Contains(failed, l => l.Text.Contains("k7trusted0", StringComparison.Ordinal) && l.Text.Contains("198.51.100.1", StringComparison.Ordinal));
        Assert.DoesNotContain(failed, l => l.Text.Contains("127.0.0.1", StringComparison.Ordinal));
    }

    /// <summary>The <c>target_info</c> line of a scrape (the exporter caches a scrape briefly; the resource never changes).</summary>
    private static async Task<string> TargetInfoAsync(TestServer server)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        string text = await http.GetStringAsync("/metrics");
        return Assert.Single(text.Split('\n'), l => l.StartsWith("target_info{", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, null, "chat-server")]
    [InlineData("chat-eu1", null, "chat-eu1")]
    [InlineData(null, "chat-from-otel", "chat-from-otel")]
    [InlineData("chat-eu1", "chat-from-otel", "chat-eu1")]
    public async Task Metrics_name_the_service(string? serviceName, string? otelServiceName, string expected)
    {
        var settings = new List<(string, string)>();
        if (serviceName is not null) settings.Add(("Chat:ServiceName", serviceName));
        if (otelServiceName is not null) settings.Add(("OTEL_SERVICE_NAME", otelServiceName));
        await using var server = await TestServer.StartAsync([.. settings]);
        string line = await TargetInfoAsync(server);
        Assert.Contains($"service_name=\"{expected}\"", line, StringComparison.Ordinal);
        // A single node has no node id, so it claims none.
        Assert.DoesNotContain("service_instance_id", line, StringComparison.Ordinal);
    }

    [ClusterFact]
    public async Task A_cluster_node_reports_its_node_id_as_the_service_instance()
    {
        await using var cluster = await TestCluster.StartAsync(1);
        string nodeId = cluster[0].Services.GetRequiredService<RedisConnection>().NodeId;
        string line = await TargetInfoAsync(cluster[0]);
        Assert.Contains("service_name=\"chat-server\"", line, StringComparison.Ordinal);
        Assert.Contains($"service_instance_id=\"{nodeId}\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_OpenAPI_document_is_served_anonymously_and_lists_the_REST_API()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("3.", doc.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = doc.RootElement.GetProperty("paths");
        foreach (string path in new[] { "/api/auth/login", "/api/auth/register", "/api/chats/{chatId}/messages", "/api/groups", "/api/users/{userId}/chats" })
            Assert.True(paths.TryGetProperty(path, out _), path + " is missing from the OpenAPI document");
        Assert.True(paths.GetProperty("/api/auth/login").TryGetProperty("post", out _));
    }

    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head"];

    [Fact]
    public async Task Every_OpenAPI_operation_has_a_summary_and_a_declared_answer()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        string text = await http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        using var doc = JsonDocument.Parse(text);
        var paths = doc.RootElement.GetProperty("paths");
        var schemas = doc.RootElement.GetProperty("components").GetProperty("schemas");

        // The chat list: a summary, a 200 JSON body with its "chats", and the {code, error} answers it can give.
        var list = paths.GetProperty("/api/users/{userId}/chats").GetProperty("get");
        Assert.False(string.IsNullOrWhiteSpace(list.GetProperty("summary").GetString()));
        var responses = list.GetProperty("responses");
        Assert.True(JsonSchema(responses.GetProperty("200"), schemas).GetProperty("properties").TryGetProperty("chats", out _));
        foreach (string status in new[] { "400", "401", "403" })
        {
            var error = JsonSchema(responses.GetProperty(status), schemas).GetProperty("properties");
            Assert.True(error.TryGetProperty("code", out _) && error.TryGetProperty("error", out _), status + " is not a {code, error} body");
        }

        // Every operation: an endpoint left undeclared gets no summary and a bare "200 OK" without content.
        int operations = 0;
        foreach (var path in paths.EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name)))
            {
                operations++;
                string name = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                Assert.True(operation.Value.TryGetProperty("summary", out var summary) && summary.GetString() is { Length: > 0 }, name + " has no summary");
                bool declared = operation.Value.GetProperty("responses").EnumerateObject().Any(r =>
                    r.Value.TryGetProperty("content", out _) || r.Name is "201" or "204");
                Assert.True(declared, name + " declares no response body and no 201/204");
            }
        }
        Assert.True(operations >= 50, $"only {operations} operations in the document");
    }

    /// <summary>The JSON schema of a response, following a <c>$ref</c> into the components.</summary>
    private static JsonElement JsonSchema(JsonElement response, JsonElement schemas)
    {
        var schema = response.GetProperty("content").GetProperty("application/json").GetProperty("schema");
        return schema.TryGetProperty("$ref", out var reference)
            ? schemas.GetProperty(reference.GetString()!["#/components/schemas/".Length..])
            : schema;
    }
}
