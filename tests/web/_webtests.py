"""Constants shared by the web tests (a uniquely named module: several test folders have a conftest)."""

#: the as-of date used by the web tests (the test store holds 2016-2017)
AS_OF = "2017-06-30"
