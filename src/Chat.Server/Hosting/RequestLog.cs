using System.Diagnostics;
using System.Text;

namespace Chat.Server.Hosting;

/// <summary>
/// Request logging without secrets. ASP.NET Core's own "Request starting/finished" lines
/// (<c>Microsoft.AspNetCore.Hosting.Diagnostics</c>, Information and below) print the whole query string, which here
/// carries socket tokens (<c>/ws?token=</c>) and link signatures (<c>?signature=</c>); they are switched off for every
/// provider, whatever the configuration says, and replaced by <see cref="RequestLogMiddleware"/>, which logs the same
/// request with those values replaced by <c>***</c> (category <c>Chat.Server.Hosting.RequestLog</c>, Debug).
/// </summary>
internal static class RequestLog
{
    public const string HostingCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>Query parameters whose values are secrets.</summary>
    private static readonly HashSet<string> SecretNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "token", "access_token", "ticket", "signature", "sig", "key", "password", "secret",
    };

    public static WebApplicationBuilder AddRedactedRequestLog(this WebApplicationBuilder builder)
    {
        // PostConfigure runs after the configuration's rules, and the last rule of equal specificity wins: one rule
        // per provider named anywhere (a provider-specific rule beats a general one) plus the general one.
        builder.Services.PostConfigure<LoggerFilterOptions>(o =>
        {
            var providers = o.Rules.Select(r => r.ProviderName).Where(p => p is not null).Distinct().ToList();
            o.Rules.Add(new LoggerFilterRule(null, HostingCategory, LogLevel.Warning, null));
            foreach (var p in providers) o.Rules.Add(new LoggerFilterRule(p, HostingCategory, LogLevel.Warning, null));
        });
        return builder;
    }

    /// <summary>The query string with the values of secret parameters replaced by <c>***</c>.</summary>
    public static string Redact(QueryString query)
    {
        if (!query.HasValue) return "";
        string q = query.Value!;
        var sb = new StringBuilder(q.Length);
        foreach (string part in q.TrimStart('?').Split('&'))
        {
            sb.Append(sb.Length == 0 ? '?' : '&');
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? part : part[..eq];
            if (eq >= 0 && SecretNames.Contains(Uri.UnescapeDataString(name))) sb.Append(name).Append("=***");
            else sb.Append(part);
        }
        return sb.ToString();
    }
}

/// <summary>Logs each request (method, path, redacted query, status, time) in place of the hosting layer's lines.</summary>
internal sealed partial class RequestLogMiddleware(RequestDelegate next, ILoggerFactory loggers)
{
    private readonly ILogger _log = loggers.CreateLogger("Chat.Server.Hosting.RequestLog");

    public async Task InvokeAsync(HttpContext http)
    {
        if (!_log.IsEnabled(LogLevel.Debug))
        {
            await next(http);
            return;
        }
        long start = Stopwatch.GetTimestamp();
        string query = RequestLog.Redact(http.Request.Query.Count == 0 ? QueryString.Empty : http.Request.QueryString);
        LogStarting(_log, http.Request.Method, http.Request.Path, query);
        try
        {
            await next(http);
        }
        finally
        {
            LogFinished(_log, http.Request.Method, http.Request.Path, query, http.Response.StatusCode, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    [LoggerMessage(3101, LogLevel.Debug, "Request starting {Method} {Path}{Query}")]
    private static partial void LogStarting(ILogger logger, string method, string path, string query);

    [LoggerMessage(3102, LogLevel.Debug, "Request finished {Method} {Path}{Query} - {StatusCode} in {ElapsedMs:0.0} ms")]
    private static partial void LogFinished(ILogger logger, string method, string path, string query, int statusCode, double elapsedMs);
}
