; Inno Setup script for rnnlab (called by build.ps1 with /DAppVersion and /DSourceDir)
[Setup]
AppName=rnnlab
AppVersion={#AppVersion}
AppPublisher=rnnlab developers
DefaultDirName={autopf}\rnnlab
DefaultGroupName=rnnlab
OutputBaseFilename=rnnlab-{#AppVersion}-windows-setup
OutputDir={#SourceDir}\..
Compression=lzma2
SolidCompression=yes
PrivilegesRequired=lowest
SetupIconFile={#SourceDir}\..\..\..\resources\icons\rnnlab.ico

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\rnnlab"; Filename: "{app}\rnnlab.exe"; Parameters: "gui"
Name: "{autodesktop}\rnnlab"; Filename: "{app}\rnnlab.exe"; Parameters: "gui"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop icon"; Flags: unchecked

[Run]
Filename: "{app}\rnnlab.exe"; Parameters: "gui"; Description: "Start rnnlab"; Flags: nowait postinstall skipifsilent
