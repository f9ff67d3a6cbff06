using Chat.Core.Storage;

namespace Chat.Storage.Sqlite;

/// <summary>
/// The embedded database's folder, held for the store's lifetime: created 0700, proven writable, and locked by
/// <c>node.lock</c> (an exclusive <c>flock</c> the kernel drops when the process dies, so a kill -9 leaves nothing
/// to clean up) so a second node on the same folder is refused instead of sharing one SQLite file.
/// </summary>
internal sealed class SqliteDataFolder : IDisposable
{
    public const string LockFileName = "node.lock";
    private readonly FileStream _lock;

    private SqliteDataFolder(FileStream held) => _lock = held;

    public static SqliteDataFolder Claim(string folder)
    {
        string lockPath = Path.Combine(folder, LockFileName);
        try
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(folder);
            else Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            // FileShare.None is an exclusive, non-blocking flock on Unix: a second claimant fails at once.
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            return new SqliteDataFolder(new FileStream(lockPath, options));
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new StartupCheckException($"Data folder {folder} is not writable by this user: give it to the user the node runs as, or set Chat:DataDir to another folder.", ex);
        }
        catch (IOException ex) when (File.Exists(lockPath))
        {
            throw new StartupCheckException($"Data folder {folder} is in use by another running node ({lockPath} is locked): stop that node or set Chat:DataDir to another folder.", ex);
        }
        catch (IOException ex)
        {
            throw new StartupCheckException($"Data folder {folder} cannot be used: {ex.Message}", ex);
        }
    }

    public void Dispose() => _lock.Dispose();
}
