def fold_blocks(data, net):
    return data
