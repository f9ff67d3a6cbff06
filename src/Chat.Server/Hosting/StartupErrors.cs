using System.Reflection;
using Chat.Core.Storage;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Chat.Server.Hosting;

/// <summary>
/// A bad option, a refused data folder or database, or a port in use stops the node with one line naming the key,
/// file or address, not a stack trace.
/// </summary>
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
        // Opens the store now, so its start-up checks (data folder lock, integrity, lost WAL) fail here as one line
        // instead of inside the host's start.
        app.Services.GetService<IChatStore>();
        return app;
    }

    /// <summary>
    /// True for a configuration error when Program runs as the server's own process. A test host that boots Program
    /// in-process (WebApplicationFactory) is the entry assembly instead and gets the exception itself.
    /// </summary>
    public static bool IsReportable(Exception ex) =>
        Assembly.GetEntryAssembly() == typeof(StartupErrors).Assembly
        && (ex is StartupCheckException || AddressInUse(ex) is not null || Failures(ex) is not null);

    /// <summary>Writes the failures as one line to stderr; returns the process exit code.</summary>
    public static int Report(Exception ex)
    {
        Console.Error.WriteLine(ex switch
        {
            StartupCheckException check => check.Message,
            _ when AddressInUse(ex) is { } inUse => inUse.Message.TrimEnd('.') + ": another process listens there; stop it or choose another address with --urls.",
            _ => "Invalid configuration: " + string.Join(" ", Failures(ex) ?? [ex.Message]),
        });
        return 1;
    }

    private static Exception? AddressInUse(Exception ex) =>
        ex is IOException { InnerException: AddressInUseException } ? ex : ex as AddressInUseException;

    private static List<string>? Failures(Exception ex) => ex switch
    {
        OptionsValidationException o => [.. o.Failures],
        AggregateException { InnerExceptions: var all } when all.All(e => e is OptionsValidationException) =>
            [.. all.SelectMany(e => ((OptionsValidationException)e).Failures)],
        _ => null,
    };
}
