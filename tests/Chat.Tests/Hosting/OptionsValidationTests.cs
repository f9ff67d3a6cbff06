using System.Diagnostics;
using Chat.Core;
using Chat.Core.Files;
using Chat.Core.Storage;
using Chat.Storage.Sqlite;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Hosting;

/// <summary>
/// A bad option stops the real host at start-up with one line that names the key (docs/configuration.md), whether
/// it is caught while the node is composed (a provider choice) or when the options are checked (ranges, sub-sections,
/// adapter sections, cross-field rules).
/// </summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("The field Chat:Commit:MaxBatch must be between 1 and 100000.", "Chat:Commit:MaxBatch=0")]
    [InlineData("The field Chat:Gateway:SendQueueFrames must be between 16 and 1000000.", "Chat:Gateway:SendQueueFrames=0")]
    [InlineData("The field Chat:Gateway:SendQueueBytes must be between 1 and 2147483647.", "Chat:Gateway:SendQueueBytes=0")]
    [InlineData("The field Chat:Limits:MaxContentBytes must be between 1 and 1048576.", "Chat:Limits:MaxContentBytes=-5")]
    [InlineData("The field Chat:Commit:PointerFlushMs must be between 10 and 250.", "Chat:Commit:PointerFlushMs=1000")]
    [InlineData("The field Chat:Presence:TypingTimeoutSeconds must be between 0.1 and 600.", "Chat:Presence:TypingTimeoutSeconds=0")]
    [InlineData("The field Chat:RateLimit:MessagesPerMinute must be between 0 and 10000000.", "Chat:RateLimit:MessagesPerMinute=-1")]
    [InlineData("The field Chat:Files:ThumbnailSize must be between 16 and 2048.", "Chat:Files:ThumbnailSize=1")]
    [InlineData("Chat:PublicUrl must be an absolute URL", "Chat:PublicUrl=chat.example.com")]
    [InlineData("Chat:TrustedProxies: 'proxy.internal' is neither an IP address nor a CIDR network", "Chat:TrustedProxies:0=10.0.0.5", "Chat:TrustedProxies:1=proxy.internal")]
    [InlineData("Chat:TrustedProxies: '10.0.0.0/33' is neither", "Chat:TrustedProxies:0=10.0.0.0/33")]
    [InlineData("Chat:Storage must be 'sqlite' or 'postgres' (got 'mysql').", "Chat:Storage=mysql")]
    [InlineData("Chat:Storage must be 'sqlite' or 'postgres' (got '1').", "Chat:Storage=1")]
    [InlineData("Chat:Backplane must be 'local' or 'redis' (got 'zeromq').", "Chat:Backplane=zeromq")]
    [InlineData("Chat:Blobs must be 'local' or 's3' (got 'ftp').", "Chat:Blobs=ftp")]
    [InlineData("Chat:Auth:Registration must be 'open' or 'invite' or 'closed' (got 'invites').", "Chat:Auth:Registration=invites")]
    [InlineData("Chat:Auth:Registration must be 'open' or 'invite' or 'closed' (got '1').", "Chat:Auth:Registration=1")]
    [InlineData("Chat:Blobs=s3 needs Chat:S3:ServiceUrl and Chat:S3:Bucket.", "Chat:Blobs=s3", "Chat:S3:ServiceUrl=http://127.0.0.1:1")]
    [InlineData("Chat:Redis:RefreshSeconds must be below Chat:Redis:EntryTtlSeconds.",
        "Chat:Backplane=redis", "ConnectionStrings:Redis=127.0.0.1:6379", "Chat:BlobsShared=true", "Chat:Redis:RefreshSeconds=60")]
    [InlineData("The field Chat:Redis:CommandTimeoutMs must be between 100 and 60000.",
        "Chat:Backplane=redis", "ConnectionStrings:Redis=127.0.0.1:6379", "Chat:BlobsShared=true", "Chat:Redis:CommandTimeoutMs=5")]
    public async Task A_bad_value_stops_start_up_with_one_line_naming_the_key(string expected, params string[] settings)
    {
        string message = await StartFailsAsync(settings);
        Assert.StartsWith(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public async Task Provider_names_bind_case_insensitively_and_choose_the_adapters()
    {
        await using var server = await TestServer.StartAsync(("Chat:Storage", "SQLite"), ("Chat:Backplane", "LOCAL"), ("Chat:Blobs", "Local"));
        var options = server.Services.GetRequiredService<IOptions<ChatOptions>>().Value;
        Assert.Equal((StorageProvider.Sqlite, BackplaneProvider.Local, BlobProvider.Local), (options.Storage, options.Backplane, options.Blobs));
        var store = Assert.IsType<SqliteChatStore>(server.Services.GetRequiredService<IChatStore>());
        Assert.Same(store, server.Services.GetRequiredService<IMessageStore>()); // one instance behind every store seam
        Assert.IsType<LocalBlobStore>(server.Services.GetRequiredService<IBlobStore>());
    }

    /// <summary>The server's own process (as `dotnet run` starts it): one line on stderr, exit code 1, no stack trace.</summary>
    [Theory]
    [InlineData("Invalid configuration: The field Chat:Commit:MaxBatch must be between 1 and 100000.", "Chat:Commit:MaxBatch=0")]
    [InlineData("Invalid configuration: Chat:Storage must be 'sqlite' or 'postgres' (got 'mysql').", "Chat:Storage=mysql")]
    [InlineData("Invalid configuration: Failed to convert configuration value 'abc' at 'Chat:Commit:MaxBatch' to type 'System.Int32'.", "Chat:Commit:MaxBatch=abc")]
    public async Task The_server_process_prints_one_line_and_exits_with_1(string expected, params string[] settings)
    {
        string dataDir = NewDataDir();
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = ServerProcess.ServerProjectDir(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(ServerProcess.ServerDll());
        psi.ArgumentList.Add($"--urls=http://127.0.0.1:{ServerProcess.FreePort()}");
        psi.ArgumentList.Add($"--Chat:DataDir={dataDir}");
        foreach (string s in settings) psi.ArgumentList.Add("--" + s);
        using var process = Process.Start(psi)!;
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
            string output = await stdout + await stderr;
            Assert.Equal(1, process.ExitCode);
            Assert.Equal(expected, Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            DeleteDir(dataDir);
        }
    }

    /// <summary>Starts the real host in-process; returns the message of the options error that stopped it.</summary>
    private static async Task<string> StartFailsAsync(string[] settings)
    {
        string dataDir = NewDataDir();
        try
        {
            await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
            {
                b.UseSetting("Chat:DataDir", dataDir);
                foreach (string s in settings)
                {
                    int eq = s.IndexOf('=', StringComparison.Ordinal);
                    b.UseSetting(s[..eq], s[(eq + 1)..]);
                }
            });
            var ex = Assert.ThrowsAny<Exception>(() => factory.Services);
            return Assert.IsType<OptionsValidationException>(Unwrap(ex)).Message;
        }
        finally
        {
            DeleteDir(dataDir);
        }
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException && ex.InnerException is { } inner) ex = inner;
        return ex;
    }

    private static string NewDataDir() => Path.Combine(Path.GetTempPath(), "chat-tests", Guid.NewGuid().ToString("N"));

    private static void DeleteDir(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
