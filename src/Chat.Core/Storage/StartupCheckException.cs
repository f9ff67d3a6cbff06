namespace Chat.Core.Storage;

/// <summary>
/// A start-up check refused the data folder or the database: the message is one sentence that names the file and says
/// what to do; the server prints it as one line and exits non-zero instead of a stack trace.
/// </summary>
public sealed class StartupCheckException(string message, Exception? inner = null) : Exception(message, inner);
