namespace Chat.Protocol;

// Profile and security bodies (PROTOCOL.md v1.1, "People, groups, privacy").

public sealed record UpdateMeRequest(string? DisplayName = null);
public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);
public sealed record RenameDeviceRequest(string? DeviceName);
