using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Hardening;

/// <summary>Tokens and link signatures in query strings never reach a log line, at any level.</summary>
public sealed class K3LogRedactionTests
{
    [Fact]
    public async Task Socket_tokens_and_signatures_are_redacted_from_every_log_line_at_trace()
    {
        var capture = new K3LogCapture();
        string token;
        const string signature = "K3SIGNATUREsecretvalue0123456789";
        await using (var server = await TestServer.StartWithAsync(
            new TestServerSetup(Services: s => s.AddSingleton<ILoggerProvider>(capture)),
            ("Logging:LogLevel:Default", "Trace"), ("Logging:LogLevel:Microsoft.AspNetCore", "Trace"),
            ("Logging:Console:LogLevel:Default", "Trace")))
        {
            var (_, auth) = await server.NewUserAsync("k3redact");
            token = auth.Token;
            await using (var socket = await server.ConnectReadyAsync(auth.Token))
            {
            }
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            using (await http.GetAsync($"/api/files/k3nofile?expires=99999999999&signature={signature}")) { }
            using (await http.GetAsync($"/ws?token=K3PLAINTOKENsecret&user_id=x")) { }
        }

        // Read after the server stopped, so the lines written after each response are in.
        var lines = capture.Lines.ToList();
        Assert.Contains(lines, l => l.Text.Contains("Request starting GET /ws?token=***", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Text.Contains("signature=***", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Text.Contains(token, StringComparison.Ordinal) || l.Text.Contains(Uri.EscapeDataString(token), StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Text.Contains(signature, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Text.Contains("K3PLAINTOKENsecret", StringComparison.Ordinal));
    }
}
