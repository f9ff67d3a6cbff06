using System.Runtime.InteropServices;

namespace Chat.Server.Hosting;

/// <summary>
/// The node's files hold tokens' hashes, messages, keys and attachments: everything it creates (database, WAL, keys,
/// blobs, folders) is owner-only (0600 files, 0700 folders) whatever the umask of the shell that started it.
/// </summary>
internal static partial class OwnerOnlyFiles
{
    public static void Apply()
    {
        if (!OperatingSystem.IsWindows()) _ = Umask(0b000_111_111); // 077; the previous mask is of no use
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);
}
