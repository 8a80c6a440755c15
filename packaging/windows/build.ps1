# Build rnnlab on Windows: a one-folder app with PyInstaller, then an installer with Inno Setup 6.
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
# Needs Python >= 3.11 on PATH and Inno Setup 6 (iscc.exe) installed.
$ErrorActionPreference = "Stop"
$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$Root = Resolve-Path "$Here\..\.."
Set-Location $Root
python -m pip install --quiet . "pyinstaller>=6" pyinstaller-hooks-contrib
# the .ico is made from the PNG at build time (Pillow only here, not in the app)
python -m pip install --quiet pillow
python -c "from PIL import Image; Image.open('resources/icons/rnnlab.png').save('resources/icons/rnnlab.ico', sizes=[(16,16),(32,32),(48,48),(256,256)])"
$Version = python -c "import rnnlab; print(rnnlab.__version__)"
python -m PyInstaller --noconfirm --clean --distpath "$Here\..\dist" --workpath "$Here\..\build" "$Here\..\rnnlab.spec"
& "$Here\..\dist\rnnlab\rnnlab.exe" selftest
if ($LASTEXITCODE -ne 0) { throw "self-test failed" }
$Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
& $Iscc "/DAppVersion=$Version" "/DSourceDir=$Here\..\dist\rnnlab" "$Here\rnnlab.iss"
