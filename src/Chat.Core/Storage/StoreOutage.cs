using System.Data.Common;
using System.Net.Sockets;

namespace Chat.Core.Storage;

/// <summary>
/// A store that cannot be reached right now (PostgreSQL down, a connection timing out) is not a bug: callers answer
/// <c>unavailable</c> (503) with a retry hint, as for a full disk, instead of <c>internal</c>.
/// </summary>
public static class StoreOutage
{
    public const string ClientMessage = "The message store is unavailable; retry.";

    public static bool Is(Exception? ex)
    {
        for (int depth = 0; ex is not null && depth < 8; ex = ex.InnerException, depth++)
            if (ex is SocketException or TimeoutException or DbException { IsTransient: true }) return true;
        return false;
    }
}
