using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Hosting;

/// <summary>
/// Start-up checks of the data folder and the embedded database, on the real server process: a refusal is one line
/// naming the file or address and exit code 1 (no stack); what the node creates is owner-only.
/// </summary>
public sealed class DataFolderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "chat-tests", Guid.NewGuid().ToString("N"));
    private string DataDir => Path.Combine(_root, "data");
    private string Db => Path.Combine(DataDir, "chat.db");

    [Fact]
    public async Task A_second_node_on_the_same_folder_is_refused_while_the_first_runs()
    {
        await using var first = await ServerProcess.StartAsync(DataDir);
        string line = await StartFailsAsync(DataDir);
        Assert.Equal($"Data folder {DataDir} is in use by another running node ({Path.Combine(DataDir, "node.lock")} is locked): stop that node or set Chat:DataDir to another folder.", line);
        await first.KillAsync(); // the kernel drops the lock with the process
        await using var again = await ServerProcess.StartAsync(DataDir);
    }

    [Fact]
    public async Task A_port_in_use_is_one_line_naming_the_address()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        string url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";
        string line = await StartFailsAsync(DataDir, url);
        Assert.Equal($"Address {url} is already in use: another process listens there; stop it or choose another address with --urls.", line);
    }

    [Fact]
    public async Task A_damaged_database_is_refused_naming_the_file()
    {
        Directory.CreateDirectory(DataDir);
        await File.WriteAllBytesAsync(Db, [.. Enumerable.Repeat((byte)0x5A, 8192)]);
        string line = await StartFailsAsync(DataDir);
        Assert.StartsWith($"Database {Db} cannot be opened (", line, StringComparison.Ordinal);
        Assert.EndsWith("restore it from a backup, or move it away to start with an empty one.", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_database_is_refused_naming_the_file()
    {
        await using (var node = await ServerProcess.StartAsync(DataDir))
        {
            for (int i = 0; i < 40; i++) await node.Api().RegisterAsync($"trunc{i}", "correct horse battery");
            Assert.Equal(0, await node.TerminateAsync(TimeSpan.FromSeconds(30)));
        }
        long length = new FileInfo(Db).Length;
        Assert.True(length > 16384, $"the database is {length} bytes");
        await using (var f = new FileStream(Db, FileMode.Open)) f.SetLength(length / 2);
        string line = await StartFailsAsync(DataDir);
        Assert.StartsWith($"Database {Db} ", line, StringComparison.Ordinal);
        Assert.EndsWith("restore it from a backup, or move it away to start with an empty one.", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_that_cannot_be_created_is_one_line_naming_it()
    {
        Directory.CreateDirectory(_root);
        string blocker = Path.Combine(_root, "a-file");
        await File.WriteAllTextAsync(blocker, "not a folder");
        string dataDir = Path.Combine(blocker, "data");
        string line = await StartFailsAsync(dataDir);
        Assert.StartsWith($"Data folder {dataDir} cannot be used: ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_wal_after_a_crash_is_refused_until_the_operator_accepts_the_loss()
    {
        await using (var node = await ServerProcess.StartAsync(DataDir))
        {
            await node.Api().RegisterAsync("walcrash", "correct horse battery");
            await node.KillAsync();
        }
        Assert.True(File.Exists(Db + "-wal"), "a crashed node leaves its WAL");
        File.Delete(Db + "-wal");
        File.Delete(Db + "-shm");

        string line = await StartFailsAsync(DataDir);
        Assert.Equal($"Database {Db} was not shut down cleanly and its write-ahead log {Db}-wal is missing, so acknowledged messages are lost: put the -wal file back, restore a backup, or start once with Chat:AcceptDataLoss=true to accept the loss.", line);

        await using (var accepted = await ServerProcess.StartAsync(DataDir, null, ("Chat:AcceptDataLoss", "true")))
        {
            Assert.Equal(0, await accepted.TerminateAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("without the write-ahead log", accepted.Output, StringComparison.Ordinal);
        }
        // After a clean shutdown there is no WAL by design, and the node starts without the override.
        Assert.False(File.Exists(Db + "-wal"));
        await using var clean = await ServerProcess.StartAsync(DataDir);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task What_the_node_creates_is_owner_only()
    {
        await using var node = await ServerProcess.StartAsync(DataDir);
        await node.Api().RegisterAsync("modes", "correct horse battery");
        const UnixFileMode file = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(file | UnixFileMode.UserExecute, File.GetUnixFileMode(DataDir));
        foreach (string name in new[] { "chat.db", "chat.db-wal", "chat.db-shm", "node.lock", "signing.key", "vapid.json" })
            Assert.True(File.GetUnixFileMode(Path.Combine(DataDir, name)) == file, $"{name} is {File.GetUnixFileMode(Path.Combine(DataDir, name))}");
    }

    /// <summary>Runs the server process to its exit; asserts exit code 1 and returns its single output line.</summary>
    private static async Task<string> StartFailsAsync(string dataDir, string? url = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = ServerProcess.ServerProjectDir(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(ServerProcess.ServerDll());
        psi.ArgumentList.Add($"--urls={url ?? $"http://127.0.0.1:{ServerProcess.FreePort()}"}");
        psi.ArgumentList.Add($"--Chat:DataDir={dataDir}");
        psi.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        using var process = Process.Start(psi)!;
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
            string output = await stdout + await stderr;
            Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}:\n{output}");
            return Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
