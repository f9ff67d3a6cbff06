using System.Reflection;
using Microsoft.Extensions.Options;

namespace Chat.Server.Hosting;

/// <summary>A bad option stops the node with one line naming the key, not a stack trace.</summary>
internal static class StartupErrors
{
    /// <summary>
    /// Runs every start-up check of the options now (they would otherwise run inside the host's start, which logs
    /// the failure with its stack before rethrowing it).
    /// </summary>
    public static WebApplication ValidateOptions(this WebApplication app)
    {
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();
        }
        catch (InvalidOperationException ex) when (ex.Source == "Microsoft.Extensions.Configuration.Binder")
        {
            // A value the binder cannot convert ("abc" for a number); its message names the value and the key.
            throw new OptionsValidationException(Chat.Core.ChatOptions.Section, typeof(Chat.Core.ChatOptions), [ex.Message]);
        }
        return app;
    }

    /// <summary>
    /// True for a configuration error when Program runs as the server's own process. A test host that boots Program
    /// in-process (WebApplicationFactory) is the entry assembly instead and gets the exception itself.
    /// </summary>
    public static bool IsReportable(Exception ex) =>
        Assembly.GetEntryAssembly() == typeof(StartupErrors).Assembly && Failures(ex) is not null;

    /// <summary>Writes the failures as one line to stderr; returns the process exit code.</summary>
    public static int Report(Exception ex)
    {
        Console.Error.WriteLine("Invalid configuration: " + string.Join(" ", Failures(ex) ?? [ex.Message]));
        return 1;
    }

    private static List<string>? Failures(Exception ex) => ex switch
    {
        OptionsValidationException o => [.. o.Failures],
        AggregateException { InnerExceptions: var all } when all.All(e => e is OptionsValidationException) =>
            [.. all.SelectMany(e => ((OptionsValidationException)e).Failures)],
        _ => null,
    };
}
