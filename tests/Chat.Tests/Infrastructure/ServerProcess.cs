using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Chat.Client;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// The server as a real child process (the built Chat.Server.dll) on a free loopback port — for tests that kill -9 it.
/// Stdout/stderr are kept for diagnostics.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public Uri BaseAddress { get; }
    public int Port { get; }
    public string DataDir { get; }
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private ServerProcess(Process process, int port, string dataDir)
    {
        _process = process;
        Port = port;
        DataDir = dataDir;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    /// <summary>Starts a node and waits until /healthz answers 200.</summary>
    /// <param name="settings">Extra configuration as "--Key=Value" command-line arguments.</param>
    public static async Task<ServerProcess> StartAsync(string dataDir, int? port = null, params (string Key, string Value)[] settings)
    {
        int p = port ?? FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = ServerProjectDir(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(ServerDll());
        psi.ArgumentList.Add($"--urls=http://127.0.0.1:{p}");
        psi.ArgumentList.Add($"--Chat:DataDir={dataDir}");
        psi.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        // Tests register many users from loopback (not exempt); settings below may set the limits again.
        psi.ArgumentList.Add("--Chat:RateLimit:LoginsPerMinute=0");
        psi.ArgumentList.Add("--Chat:RateLimit:RegistrationsPerMinute=0");
        foreach (var (key, value) in settings) psi.ArgumentList.Add($"--{key}={value}");
        psi.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the server process.");
        var server = new ServerProcess(process, p, dataDir);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitHealthyAsync(TimeSpan.FromSeconds(90)); // generous: CI shares 2 cores with the whole suite
        }
        catch
        {
            await server.DisposeAsync(); // never leave a half-started server behind
            throw;
        }
        return server;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"Server exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var res = await http.GetAsync("/healthz");
                if (res.StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Server did not become healthy in {timeout}:\n{Output}");
    }

    public ChatApi Api(string? token = null) => new(new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) }, token);

    /// <summary>SIGKILL: no shutdown hooks run (a crash).</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGTERM: the graceful drain path.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (_process.HasExited) return _process.ExitCode;
        if (kill(_process.Id, 15) != 0) throw new InvalidOperationException("kill(SIGTERM) failed");
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
#pragma warning disable CA5392, SYSLIB1054 // libc from the default search path; a plain P/Invoke is fine in tests
    private static extern int kill(int pid, int sig);
#pragma warning restore CA5392, SYSLIB1054

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static string RepoRoot([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", ".."));

    internal static string ServerProjectDir() => Path.Combine(RepoRoot(), "src", "Chat.Server");

    /// <summary>The server build of the same configuration as this test assembly.</summary>
    internal static string ServerDll()
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        string dll = Path.Combine(ServerProjectDir(), "bin", configuration, "net10.0", "Chat.Server.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException("Build the server first (dotnet build Chat.slnx).", dll);
        return dll;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
