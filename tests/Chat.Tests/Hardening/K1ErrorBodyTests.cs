using System.Net;
using System.Text;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Hardening;

/// <summary>Issue 17 "honest errors": unknown routes, 405, 414 and 415 answer the contract's {code, error} body.</summary>
public sealed class K1ErrorBodyTests
{
    [Fact]
    public async Task Unknown_routes_answer_404_not_found_with_a_body()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync();
        (await server.GetAsync("/api/no/such/route", me.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.GetAsync("/api/no/such/route", null)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.GetAsync("/no-such-page.html", null)).AssertError(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_known_route_with_the_wrong_method_answers_405_with_a_body()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync();
        var reply = await server.CallAsync(HttpMethod.Put, "/api/auth/login", "{}");
        reply.AssertError(HttpStatusCode.MethodNotAllowed, "invalid_request");
        (await server.CallAsync(HttpMethod.Delete, "/api/users/me", null, me.Token)).AssertError(HttpStatusCode.MethodNotAllowed, "invalid_request");
    }

    [Fact]
    public async Task A_body_that_is_not_json_answers_415_with_a_body()
    {
        await using var server = await TestServer.StartAsync();
        var (api, me) = await server.NewUserAsync();
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = new StringContent("username=a&password=b", Encoding.UTF8, "application/x-www-form-urlencoded") };
        var res = await api.Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, res.StatusCode);
        await AssertBodyAsync(res, "invalid_request");
        _ = me;
    }

    [Fact]
    public async Task A_too_long_request_target_answers_414_with_a_body()
    {
        await using var server = await TestServer.StartAsync();
        var (api, me) = await server.NewUserAsync();
        foreach (int length in new[] { 9_000, 40_000 })
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, "/api/users?username=" + new string('a', length));
            req.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", me.Token);
            var res = await api.Http.SendAsync(req);
            Assert.Equal(HttpStatusCode.RequestUriTooLong, res.StatusCode);
            await AssertBodyAsync(res, "invalid_request");
        }
    }

    private static async Task AssertBodyAsync(HttpResponseMessage res, string code)
    {
        string raw = await res.Content.ReadAsStringAsync();
        var body = System.Text.Json.JsonDocument.Parse(raw).RootElement;
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("error").GetString()));
    }
}
