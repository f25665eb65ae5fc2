"""Package metadata comes from settings.ini (nbdev 2 layout); this file only translates it for setuptools."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

here = Path(__file__).parent
config = ConfigParser(delimiters=["="])
config.read(here / "settings.ini", encoding="utf-8")
cfg = config["DEFAULT"]

for key in "lib_name version description author author_email license min_python git_url".split():
    if not cfg.get(key):
        raise SystemExit(f"settings.ini: missing required key {key!r}")

spdx = {"apache2": "Apache-2.0"}.get(cfg["license"].lower(), cfg["license"])
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable", "6 - Mature", "7 - Inactive"]
classifiers = [
    f"Development Status :: {statuses[int(cfg.get('status', '3')) - 1]}",
    f"Intended Audience :: {cfg.get('audience', 'Science/Research')}",
    f"Natural Language :: {cfg.get('language', 'English')}",
    f"Programming Language :: Python :: {cfg['min_python']}",
]

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(here / "README.md").read_text(encoding="utf-8") if (here / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    license=spdx,
    url=cfg["git_url"],
    keywords=cfg.get("keywords", "").split(),
    classifiers=classifiers,
    packages=setuptools.find_packages(include=[cfg["lib_name"], cfg["lib_name"] + ".*"]),
    include_package_data=True,
    package_data={cfg["lib_name"]: ["data/*.npz", "data/*.json", "data/*.csv"]},
    python_requires=">=" + cfg["min_python"],
    install_requires=cfg.get("requirements", "").split(),
    entry_points={
        "console_scripts": cfg.get("console_scripts", "").split(),
        "nbdev": [f"{cfg['lib_name']}={cfg['lib_name']}._modidx:d"],
    },
    zip_safe=False,
)
