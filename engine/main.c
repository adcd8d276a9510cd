/* kpieval: the command-line entry point; everything is in cli.c. */
#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv)
{
    return kpi_cli_main(argc, argv, stdout, stderr);
}
