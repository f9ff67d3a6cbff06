using System.Data.Common;

namespace Chat.Core.Storage;

/// <summary>
/// A write failed because the disk (or the database) is full. Nothing of it was stored; REST answers 503
/// <c>unavailable</c>, the socket an <c>unavailable</c> error, and the client may retry later.
/// </summary>
public sealed class StorageFullException(string what, Exception? inner = null)
    : IOException($"The server's {what} is out of space: nothing was saved.", inner)
{
    /// <summary>The sentence for clients (no paths, no internals).</summary>
    public const string ClientMessage = "The server is out of storage space, so this was not saved; try again later.";
}

/// <summary>A store that knows whether its latest write failed for lack of space (read by /healthz).</summary>
public interface ISpaceHealth
{
    /// <summary>"database", "blob store", …</summary>
    string SpaceName { get; }

    /// <summary>True from a write that failed for lack of space until the next write that succeeds.</summary>
    bool OutOfSpace { get; }
}

/// <summary>
/// The out-of-space state of one store: set by a disk-full failure, cleared by the next successful write, so a node
/// recovers by itself when space returns (nothing sticky, nothing to reset).
/// </summary>
public sealed class StorageSpace
{
    private volatile bool _full;

    public bool OutOfSpace => _full;

    public void Failed() => _full = true;

    public void Written()
    {
        if (_full) _full = false;
    }

    /// <summary>
    /// True when <paramref name="ex"/> (or an exception inside it) says the disk is full: <see cref="StorageFullException"/>,
    /// an <see cref="IOException"/> for ENOSPC/EDQUOT (Unix: the errno is the HResult) or ERROR_DISK_FULL /
    /// ERROR_HANDLE_DISK_FULL (Windows), or a database's SQLSTATE 53100 (PostgreSQL disk_full).
    /// </summary>
    public static bool IsDiskFull(Exception? ex)
    {
        for (int depth = 0; ex is not null && depth < 8; ex = ex.InnerException, depth++)
        {
            switch (ex)
            {
                case StorageFullException:
                    return true;
                case IOException io when io.HResult is Enospc or Edquot or WinDiskFull or WinHandleDiskFull:
                    return true;
                case DbException db when db.SqlState == "53100":
                    return true;
            }
        }
        return false;
    }

    private const int Enospc = 28;
    private const int Edquot = 122;
    private const int WinDiskFull = unchecked((int)0x80070070);
    private const int WinHandleDiskFull = unchecked((int)0x80070027);
}
