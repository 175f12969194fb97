"""Starting Spark prints nothing on stderr but the JDK's own incubator-module line.

Spark 4's launcher adds ``--add-modules jdk.incubator.vector``; the JVM then prints
"WARNING: Using incubator modules: jdk.incubator.vector" before any logging is set up, and
no option silences it. Everything else (the default-profile banner, "Setting default log
level", hostname and native-hadoop WARN lines) is kept out by engines/spark-log4j2.properties.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import spark_missing

JDK_LINE = "WARNING: Using incubator modules: jdk.incubator.vector"


def test_log4j_file_is_shipped_and_quiet():
    from crimescope.engines.spark import LOG4J_CONF

    text = LOG4J_CONF.read_text(encoding="utf-8")
    assert "rootLogger.level = error" in text and "logger.spark.level = error" in text


@pytest.mark.slow
def test_spark_start_is_quiet_on_stderr(tmp_path):
    why = spark_missing()
    if why:
        pytest.skip(why)
    code = ("from crimescope.engines.spark import spark_session\n"
            "s = spark_session('local[1]', shuffle_partitions=1)\n"
            "print(s.range(5).count())\n"
            "s.stop()\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "5"
    noise = [ln for ln in r.stderr.splitlines() if ln.strip() and ln.strip() != JDK_LINE]
    assert noise == []
